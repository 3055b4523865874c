//! `costradar prices refresh`: the Price List cache's refresh job. It reads on-demand rates from
//! the AWS Price List API (`pricing:GetProducts`, in the operator's account) and stores them
//! (`RateStore`, scope `PriceList`), where the receiver and the scans read them ahead of the
//! bundled snapshot.

use std::process::ExitCode;

use clap::Subcommand;
use costradar::aws::price_list;
use costradar::domain::parse_regions;
use costradar::store::{DynamoStore, RateScope, RateStore};
use serde_json::json;

#[derive(Subcommand)]
pub enum PricesCommand {
    /// Reads the regions' rates from the Price List API and stores them for every tenant.
    Refresh {
        /// Regions to refresh, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "us-east-1,us-east-2,us-west-2,eu-west-1,eu-central-1")]
        regions: Vec<String>,
    },
}

pub async fn run(cmd: PricesCommand, sdk: &costradar::aws::SdkConfig, store: &DynamoStore) -> ExitCode {
    let PricesCommand::Refresh { regions } = cmd;
    let regions = match parse_regions("regions", &regions) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::from(2);
        }
    };
    let rates = match price_list::fetch_rates(&price_list::client(sdk), &regions).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = store.save_rates(RateScope::PriceList, &rates).await {
        eprintln!("costradar: could not store the rates: {e}");
        return ExitCode::FAILURE;
    }
    println!("{}", json!({ "regions": regions, "rates": rates.len() }));
    ExitCode::SUCCESS
}
