//! `costradar prices refresh`: the Price List cache's refresh job on demand (the stack runs it
//! daily: the scan function's `refresh_price_list` task). It reads on-demand rates from the AWS
//! Price List API (`pricing:GetProducts`, in the operator's account) and stores them
//! (`RateStore`, scope `PriceList`), where the receiver and the scans read them ahead of the
//! bundled snapshot.

use std::process::ExitCode;

use clap::Subcommand;
use costradar_aws::price_list::PriceListApi;
use costradar_aws::DynamoStore;
use costradar_core::domain::parse_regions;
use costradar_core::pricing::price_list;
use costradar_core::scan::tasks::refresh_price_list;
use serde_json::json;

#[derive(Subcommand)]
pub enum PricesCommand {
    /// Reads the regions' rates from the Price List API and stores them for every tenant.
    Refresh {
        /// Regions to refresh, comma-separated.
        #[arg(long, value_delimiter = ',', default_values = price_list::DEFAULT_REGIONS)]
        regions: Vec<String>,
    },
}

pub async fn run(cmd: PricesCommand, sdk: &costradar_aws::SdkConfig, store: &DynamoStore) -> ExitCode {
    let PricesCommand::Refresh { regions } = cmd;
    let regions = match parse_regions("regions", &regions) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::from(2);
        }
    };
    match refresh_price_list(&PriceListApi::from_sdk(sdk), store, &regions).await {
        Ok(rates) => println!("{}", json!({ "regions": regions, "rates": rates })),
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
