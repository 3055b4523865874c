//! The real-time receiver: EventBridge API-destination events priced within a second.
//!
//! `POST /events/{tenant_id}` with `x-api-key`. Status codes follow API-destination semantics:
//! 2xx accepted (duplicates too); 400/401/403/404/413 permanent (EventBridge does not retry);
//! 5xx transient (retried for up to 24 h). An event is never acknowledged before it is stored:
//! the event and its finding are one conditional write, keyed on the event id.

pub mod enrich;
pub mod notify;
pub mod price;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

use crate::domain::event::{classify, Change, Classified, EndpointVariant, InstanceOp, MAX_IDS_PER_EVENT};
use crate::domain::{Account, AccountId, Clock, Tenant, TenantId, TenantStatus, TokenHash};
use crate::pricing::model::InstanceFacts;
use crate::pricing::{Bundled, PriceBook, RateTable};
use crate::rules::realtime::DEFAULT_THRESHOLD_USD;
use crate::store::{RateScope, ReceiverStore, Recorded, StoreError};
use enrich::{Enricher, NoEnrichment, ENRICH_BUDGET};
use notify::Notifications;
use price::{parse_envelope, price_classified, BODY_MAX};

/// How long tenant and account records are cached in a warm Lambda. A revoked token or a
/// disconnected account stops working within this time (the requirement is 60 s).
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// How long the stored price sources (the tenant's CUR rates, the Price List cache) are kept in a
/// warm Lambda. They change daily at most.
pub const RATES_TTL: Duration = Duration::from_secs(300);
/// How often a warm instance retries a tenant's queued notifications.
const NOTIFY_RETRY_EVERY: Duration = Duration::from_secs(60);
/// Presented keys longer than this are refused without hashing.
const API_KEY_MAX: usize = 256;

#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

fn reply(status: u16, code: &str, message: &str) -> Reply {
    Reply { status, body: json!({ "error": { "code": code, "message": message } }) }
}

/// A store failure as an answer: only a transient one is a 5xx, which EventBridge retries for a
/// day; a request the store refuses as invalid is a permanent 400.
fn store_failure(e: &StoreError) -> Reply {
    if let StoreError::Invalid(why) = e {
        tracing::warn!(error = %why, "the store refused the event as invalid");
        return reply(400, "invalid_event", "the event cannot be stored: an id or a value is too large");
    }
    tracing::error!(error = %e, "store unavailable; the event was not acknowledged");
    reply(503, "unavailable", "temporarily unavailable; retry")
}

/// Entries a cache holds before it starts over.
const CACHE_MAX: usize = 10_000;

/// Found and not-found answers are kept apart: random tenant ids (each a store read) fill the
/// misses, which start over when full, and never flush the tenants that exist.
struct Cache<K, V> {
    hits: Mutex<HashMap<K, (Instant, V)>>,
    misses: Mutex<HashMap<K, Instant>>,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Self { hits: Mutex::default(), misses: Mutex::default() }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Cache<K, V> {
    /// `Some(answer)` while a fresh answer is cached.
    fn get(&self, key: &K, ttl: Duration) -> Option<Option<V>> {
        if let Some((at, v)) = self.hits.lock().unwrap().get(key) {
            if at.elapsed() < ttl {
                return Some(Some(v.clone()));
            }
        }
        match self.misses.lock().unwrap().get(key) {
            Some(at) if at.elapsed() < ttl => Some(None),
            _ => None,
        }
    }

    fn put(&self, key: K, value: Option<V>) {
        fn insert<K: std::hash::Hash + Eq, T>(map: &Mutex<HashMap<K, T>>, key: K, value: T) {
            let mut m = map.lock().unwrap();
            if m.len() >= CACHE_MAX {
                m.clear();
            }
            m.insert(key, value);
        }
        match value {
            Some(v) => {
                self.misses.lock().unwrap().remove(&key);
                insert(&self.hits, key, (Instant::now(), v));
            }
            None => insert(&self.misses, key, Instant::now()),
        }
    }
}

/// A token bucket per tenant in each warm receiver: `rate` events a second, bursts of `burst`.
/// Past it the answer is 429, which EventBridge retries. With the function's reserved
/// concurrency C, one tenant gets at most C × rate events a second (docs/security.md).
pub struct RateLimit {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<TenantId, (Instant, f64)>>,
}

impl RateLimit {
    /// 100 events a second, bursts of 200, per tenant and warm instance.
    pub const DEFAULT: (f64, f64) = (100.0, 200.0);

    pub fn new(rate: f64, burst: f64) -> Self {
        Self { rate, burst, buckets: Mutex::default() }
    }

    fn admit(&self, tenant: &TenantId) -> bool {
        let mut buckets = self.buckets.lock().unwrap();
        if buckets.len() >= CACHE_MAX && !buckets.contains_key(tenant) {
            buckets.clear();
        }
        let now = Instant::now();
        let (at, tokens) = buckets.entry(tenant.clone()).or_insert((now, self.burst));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Receiver {
    store: Arc<dyn ReceiverStore>,
    bundled: &'static Bundled,
    clock: Arc<dyn Clock>,
    tenants: Cache<TenantId, Tenant>,
    accounts: Cache<(TenantId, AccountId), Account>,
    tenant_rates: Cache<(TenantId, String), Arc<RateTable>>,
    /// By region: an event needs its own region's rates only.
    price_list: Cache<String, Arc<RateTable>>,
    cache_ttl: Duration,
    rates_ttl: Duration,
    enricher: Arc<dyn Enricher>,
    notifications: Option<Arc<Notifications>>,
    retried: Mutex<HashMap<TenantId, Instant>>,
    limit: RateLimit,
    /// How often a warm instance retries a tenant's queued notifications.
    pub notify_retry_every: Duration,
    /// How long events are kept (TTL).
    pub event_retention: chrono::Duration,
}

impl Receiver {
    pub fn new(store: Arc<dyn ReceiverStore>, bundled: &'static Bundled, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            bundled,
            clock,
            tenants: Cache::default(),
            accounts: Cache::default(),
            tenant_rates: Cache::default(),
            price_list: Cache::default(),
            cache_ttl: CACHE_TTL,
            rates_ttl: RATES_TTL,
            enricher: Arc::new(NoEnrichment),
            notifications: None,
            retried: Mutex::default(),
            limit: RateLimit::new(RateLimit::DEFAULT.0, RateLimit::DEFAULT.1),
            notify_retry_every: NOTIFY_RETRY_EVERY,
            event_retention: chrono::Duration::days(90),
        }
    }

    /// Reads facts events lack (instance types) from the customer's account.
    pub fn with_enricher(mut self, enricher: Arc<dyn Enricher>) -> Self {
        self.enricher = enricher;
        self
    }

    /// Sends findings to the operator's targets and the tenant's webhook after each commit.
    pub fn with_notifications(mut self, notifications: Arc<Notifications>) -> Self {
        self.notifications = Some(notifications);
        self
    }

    /// The per-tenant rate limit (events a second and burst, per warm instance).
    pub fn with_rate_limit(mut self, rate: f64, burst: f64) -> Self {
        self.limit = RateLimit::new(rate, burst);
        self
    }

    /// Test hook: a zero TTL reads through to the store every time.
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self.rates_ttl = ttl;
        self
    }

    async fn cached<K, V, F>(&self, cache: &Cache<K, V>, key: K, load: F) -> Result<Option<V>, StoreError>
    where
        K: std::hash::Hash + Eq + Clone,
        V: Clone,
        F: std::future::Future<Output = Result<Option<V>, StoreError>>,
    {
        self.cached_for(self.cache_ttl, cache, key, load).await
    }

    async fn cached_for<K, V, F>(
        &self,
        ttl: Duration,
        cache: &Cache<K, V>,
        key: K,
        load: F,
    ) -> Result<Option<V>, StoreError>
    where
        K: std::hash::Hash + Eq + Clone,
        V: Clone,
        F: std::future::Future<Output = Result<Option<V>, StoreError>>,
    {
        if let Some(answer) = cache.get(&key, ttl) {
            return Ok(answer);
        }
        let v = load.await?;
        cache.put(key, v.clone());
        Ok(v)
    }

    /// Handles one request. `path` is the URL path, `api_key` the `x-api-key` header.
    pub async fn handle(
        &self,
        method: &str,
        path: &str,
        api_key: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let Some(tenant_part) = path.strip_prefix("/events/") else {
            return reply(404, "route_not_found", "POST events to /events/{tenant_id}");
        };
        if method != "POST" {
            return reply(405, "method_not_allowed", "POST events to /events/{tenant_id}");
        }
        if body.len() > BODY_MAX {
            return reply(413, "payload_too_large", "an event is at most 256 KB");
        }
        let Ok(tenant_id) = TenantId::parse(tenant_part.trim_end_matches('/')) else {
            return reply(404, "route_not_found", "no such tenant endpoint");
        };

        // Authenticate: one answer for an unknown tenant, an account that is not the tenant's and
        // a wrong token. A token is bound to one account (docs/security.md, scenario 3), so the
        // account the event claims is read from the body first.
        let unauthorized = || reply(401, "unauthorized", "missing or invalid x-api-key");
        let Some(key) = api_key.filter(|k| !k.is_empty() && k.len() <= API_KEY_MAX) else {
            return unauthorized();
        };
        let tenant = match self.cached(&self.tenants, tenant_id.clone(), self.store.get_tenant(&tenant_id)).await {
            Ok(t) => t,
            Err(e) => return store_failure(&e),
        };
        let Some(tenant) = tenant.filter(|t| t.status == TenantStatus::Active) else {
            tracing::warn!(tenant = %tenant_id, "refused an event: unknown tenant");
            return unauthorized();
        };
        let json_type = content_type
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
        if !json_type {
            return reply(400, "unsupported_media_type", "send Content-Type: application/json");
        }
        let ev = match parse_envelope(body).and_then(|e| classify(&e)) {
            Ok(ev) => ev,
            Err(e) => {
                return Reply {
                    status: 400,
                    body: json!({ "error": { "code": "invalid_event", "message": e.message, "field": e.field } }),
                };
            }
        };
        let account_id = ev.account.clone();
        let account = match self
            .cached(
                &self.accounts,
                (tenant.id.clone(), account_id.clone()),
                self.store.get_account(&tenant.id, &account_id),
            )
            .await
        {
            Ok(a) => a,
            Err(e) => return store_failure(&e),
        };
        let now = self.clock.now();
        let Some(account) = account.filter(|a| a.tokens.accepts(&TokenHash::of(key), now)) else {
            tracing::warn!(tenant = %tenant_id, account = %account_id, "refused an event: not this account's token");
            return unauthorized();
        };
        if !self.limit.admit(&tenant.id) {
            return reply(429, "rate_limited", "too many events for this tenant; retry later");
        }
        if !account.is_usable() {
            return reply(403, "account_not_connected", "the event's account is not an active account of this tenant");
        }

        let outcome = self.process(&tenant, &account, &ev, now).await;
        if outcome.is_ok() {
            self.retry_notifications(&tenant, now).await;
        }
        match outcome {
            // Only what the caller sent comes back: no price, no rate, nothing remembered.
            Ok(Recorded::New) => Reply { status: 200, body: json!({ "status": "accepted", "event_id": ev.id }) },
            Ok(Recorded::Duplicate) => Reply { status: 200, body: json!({ "status": "duplicate", "event_id": ev.id }) },
            Err(e) => store_failure(&e),
        }
    }

    /// One region of a stored price source, cached; `None` when it is empty or cannot be read (the
    /// event is then priced from the next source: a missing rate costs precision, never the event).
    async fn stored_rates<K>(
        &self,
        cache: &Cache<K, Arc<RateTable>>,
        key: K,
        scope: RateScope<'_>,
        region: &str,
    ) -> Option<Arc<RateTable>>
    where
        K: std::hash::Hash + Eq + Clone,
    {
        let load = async {
            let t = self.store.get_region_rates(scope, region).await?;
            Ok((!t.is_empty()).then(|| Arc::new(t)))
        };
        match self.cached_for(self.rates_ttl, cache, key, load).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "stored rates unavailable; pricing from the next source");
                None
            }
        }
    }

    /// Prices, decides and stores one authenticated event.
    async fn process(
        &self,
        tenant: &Tenant,
        account: &Account,
        ev: &Classified,
        now: chrono::DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        // Bounded work per event: over the cap, no id is looked up or remembered (the event is
        // stored unpriced, with the reason).
        let capped = |ids: &[String]| ids.len() <= MAX_IDS_PER_EVENT;
        let (known, enriched) = self.instance_facts(tenant, account, ev).await?;
        let with_config = self.with_endpoint_variants(tenant, account, ev).await?;
        let ev = with_config.as_ref().unwrap_or(ev);
        let key = (tenant.id.clone(), ev.region.clone());
        let tenant_rates = self.stored_rates(&self.tenant_rates, key, RateScope::Tenant(&tenant.id), &ev.region).await;
        let price_list = self.stored_rates(&self.price_list, ev.region.clone(), RateScope::PriceList, &ev.region).await;
        let book =
            PriceBook { tenant: tenant_rates.as_deref(), price_list: price_list.as_deref(), bundled: self.bundled };
        let threshold = tenant.realtime_threshold_usd.unwrap_or(DEFAULT_THRESHOLD_USD);
        let priced = price_classified(ev, &book, &known, threshold);
        let finding = priced.stored_finding(ev, &tenant.id, now);
        let mut stored = serde_json::to_value(&priced).expect("priced event serialises");
        stored["received_at"] = json!(now);
        let recorded =
            self.store.record_event(&tenant.id, &ev.id, &stored, finding.as_ref(), now + self.event_retention).await?;
        if recorded == Recorded::New {
            let mut learned: Vec<(String, String)> = match &ev.change {
                Change::Instances { op: InstanceOp::Launch, ids, instance_type: Some(_), .. } if capped(ids) => {
                    ids.iter().filter_map(|id| Some((id.clone(), known.get(id)?.remembered()))).collect()
                }
                Change::InstanceType { instance_id, new_type } => {
                    let mut f = known.get(instance_id).cloned().unwrap_or_else(|| InstanceFacts::of_type(new_type));
                    f.instance_type = new_type.clone();
                    vec![(instance_id.clone(), f.remembered())]
                }
                Change::EndpointConfig { name: Some(name), variants } if !variants.is_empty() => {
                    EndpointVariant::memory_key(name)
                        .map(|key| (key, serde_json::to_string(variants).expect("variants serialise")))
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            };
            learned.extend(enriched.iter().map(|(id, f)| (id.clone(), f.remembered())));
            if !learned.is_empty() {
                // A cache for later events: losing it costs a price, never an event.
                if let Err(e) = self
                    .store
                    .remember_instance_types(
                        &tenant.id,
                        &account.account_id,
                        &learned,
                        now + chrono::Duration::days(400),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not remember instance types");
                }
            }
            if let (Some(n), Some(f)) = (&self.notifications, &finding) {
                // After the commit: a failure is queued in the outbox, never the caller's problem.
                if let Err(e) = n.deliver(self.store.as_ref(), tenant, &ev.id, f, now).await {
                    tracing::error!(tenant = %tenant.id, event = %ev.id, error = %e, "a failed notification could not be queued");
                }
            }
            tracing::info!(tenant = %tenant.id, event = %ev.id, kind = ev.kind.as_str(), monthly = ?priced.monthly_cost_usd, finding = priced.finding.is_some(), "event priced");
        }
        Ok(recorded)
    }

    /// What is known of the event's instances, and which of it enrichment read just now (to
    /// remember). From the receiver's memory first, then the customer's account within
    /// [`ENRICH_BUDGET`]; a launch's own facts come from the event, with its AMI's OS read by
    /// enrichment. Enrichment that fails or is slow prices with less, never loses the event.
    async fn instance_facts(
        &self,
        tenant: &Tenant,
        account: &Account,
        ev: &Classified,
    ) -> Result<(HashMap<String, InstanceFacts>, Vec<(String, InstanceFacts)>), StoreError> {
        let capped = |ids: &[String]| ids.len() <= MAX_IDS_PER_EVENT;
        let mut known = HashMap::new();
        let mut enriched = Vec::new();
        let warn = |what: &str, e: &dyn std::fmt::Display| tracing::warn!(tenant = %tenant.id, error = %e, "{what}");
        match &ev.change {
            Change::Instances { instance_type: Some(_), ids, image_id, platform, .. } if capped(ids) => {
                let Ok(Some(mut facts)) = crate::pricing::model::launched_facts(&ev.change) else {
                    return Ok((known, enriched));
                };
                if let (Some(image), None) = (image_id, platform) {
                    let lookup = self.enricher.image_os(tenant, account, &ev.region, image);
                    match tokio::time::timeout(ENRICH_BUDGET, lookup).await {
                        Ok(Ok(os)) => facts.os = os,
                        Ok(Err(e)) => warn("priced without the AMI's platform", &e),
                        Err(_) => warn("priced without the AMI's platform", &"took too long"),
                    }
                }
                known.extend(ids.iter().map(|id| (id.clone(), facts.clone())));
            }
            Change::Instances { instance_type: None, .. } | Change::InstanceType { .. } => {
                let ids = match &ev.change {
                    Change::InstanceType { instance_id, .. } => vec![instance_id.clone()],
                    Change::Instances { ids, .. } if capped(ids) => ids.clone(),
                    _ => Vec::new(),
                };
                if !ids.is_empty() {
                    let remembered = self.store.instance_types(&tenant.id, &account.account_id, &ids).await?;
                    known.extend(remembered.iter().map(|(id, s)| (id.clone(), InstanceFacts::from_remembered(s))));
                }
                let missing: Vec<String> = ids.into_iter().filter(|id| !known.contains_key(id)).collect();
                if !missing.is_empty() {
                    let lookup = self.enricher.instances(tenant, account, &ev.region, &missing);
                    match tokio::time::timeout(ENRICH_BUDGET, lookup).await {
                        Ok(Ok(found)) => enriched.extend(found),
                        Ok(Err(e)) => warn("priced without enrichment", &e),
                        Err(_) => warn("priced without enrichment", &"took too long"),
                    }
                    known.extend(enriched.iter().cloned());
                }
            }
            _ => {}
        }
        Ok((known, enriched))
    }

    /// A new endpoint with the variants of the configuration it runs, when an earlier
    /// CreateEndpointConfig event of the same account told them; `None` for any other event.
    async fn with_endpoint_variants(
        &self,
        tenant: &Tenant,
        account: &Account,
        ev: &Classified,
    ) -> Result<Option<Classified>, StoreError> {
        let Change::Endpoint { config: Some(config), variants, .. } = &ev.change else { return Ok(None) };
        let Some(key) = EndpointVariant::memory_key(config).filter(|_| variants.is_empty()) else { return Ok(None) };
        let remembered = self.store.instance_types(&tenant.id, &account.account_id, std::slice::from_ref(&key)).await?;
        let Some(found) = remembered.get(&key).and_then(|json| serde_json::from_str(json).ok()) else {
            return Ok(None);
        };
        let mut ev = ev.clone();
        if let Change::Endpoint { variants, .. } = &mut ev.change {
            *variants = found;
        }
        Ok(Some(ev))
    }

    /// Retries the tenant's queued notifications, at most once a minute per warm instance.
    async fn retry_notifications(&self, tenant: &Tenant, now: chrono::DateTime<Utc>) {
        let Some(n) = &self.notifications else { return };
        {
            let mut retried = self.retried.lock().unwrap();
            if retried.get(&tenant.id).is_some_and(|at| at.elapsed() < self.notify_retry_every) {
                return;
            }
            if retried.len() > 10_000 {
                retried.clear();
            }
            retried.insert(tenant.id.clone(), Instant::now());
        }
        match n.retry(self.store.as_ref(), tenant, now).await {
            Ok((0, 0)) => {}
            Ok((delivered, pending)) => {
                tracing::info!(tenant = %tenant.id, delivered, pending, "retried notifications")
            }
            Err(e) => tracing::warn!(tenant = %tenant.id, error = %e, "could not retry notifications"),
        }
    }
}
