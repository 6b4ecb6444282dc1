//! In-memory [`BillingStore`]: the DynamoDB semantics (owner-scoped keys, conditional payment
//! recording, cursors) without I/O.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use platform::pagination::{Cursor, CursorValue, Page};

use super::{BillingStore, KeyedPayment, PaymentKey, Recorded, StoreError};
use crate::domain::{Invoice, Payment};
use platform::store::Failure as _;

#[derive(Default)]
struct Data {
    /// (owner, id) → invoice.
    invoices: BTreeMap<(String, String), Invoice>,
    /// (owner, id) → payment.
    payments: BTreeMap<(String, String), Payment>,
    /// (owner, idempotency key) → (payment id, fingerprint).
    payment_keys: BTreeMap<(String, String), (String, String)>,
}

#[derive(Default)]
pub struct MemoryBillingStore {
    data: Mutex<Data>,
}

impl MemoryBillingStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> Result<MutexGuard<'_, Data>, StoreError> {
        platform::store::locked(&self.data)
    }

    /// Every payment of every owner (for tests' invariants).
    pub fn all_payments(&self) -> Vec<Payment> {
        self.data()
            .map(|d| d.payments.values().cloned().collect())
            .unwrap_or_default()
    }
}

fn newest_first<T: Clone>(
    map: &BTreeMap<(String, String), T>,
    owner: &str,
    limit: u16,
    after: Option<&Cursor>,
) -> Result<Page<T>, StoreError> {
    let after = match after.map(|c| c.get("id")) {
        None => None,
        Some(Some(CursorValue::S(id))) => Some(id.clone()),
        Some(_) => return Err(StoreError::internal("unexpected cursor shape")),
    };
    let mut items = map
        .iter()
        .rev()
        .filter(|((o, id), _)| o == owner && after.as_deref().is_none_or(|a| id.as_str() < a));
    let mut out = Vec::new();
    let mut last = None;
    for ((_, id), item) in items.by_ref().take(usize::from(limit)) {
        last = Some(id.clone());
        out.push(item.clone());
    }
    let next = match (items.next(), last) {
        (Some(_), Some(id)) => Some(Cursor::from([("id".to_owned(), CursorValue::S(id))])),
        _ => None,
    };
    Ok(Page { items: out, next })
}

#[async_trait]
impl BillingStore for MemoryBillingStore {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<(), StoreError> {
        let mut data = self.data()?;
        let key = (invoice.owner_id.clone(), invoice.id.clone());
        if data.invoices.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        data.invoices.insert(key, invoice.clone());
        Ok(())
    }

    async fn get_invoice(&self, owner: &str, id: &str) -> Result<Option<Invoice>, StoreError> {
        Ok(self
            .data()?
            .invoices
            .get(&(owner.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn list_invoices(
        &self,
        owner: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Invoice>, StoreError> {
        newest_first(&self.data()?.invoices, owner, limit, after)
    }

    async fn record_payment(
        &self,
        updated: &Invoice,
        expected_version: u64,
        payment: &Payment,
        key: &PaymentKey,
    ) -> Result<Recorded, StoreError> {
        let mut data = self.data()?;
        let marker = (payment.owner_id.clone(), key.key.clone());
        if let Some((payment_id, fingerprint)) = data.payment_keys.get(&marker) {
            return Ok(Recorded::Duplicate {
                payment_id: payment_id.clone(),
                fingerprint: fingerprint.clone(),
            });
        }
        let invoice_key = (updated.owner_id.clone(), updated.id.clone());
        let payment_key = (payment.owner_id.clone(), payment.id.clone());
        match data.invoices.get(&invoice_key) {
            Some(current)
                if current.version == expected_version
                    && !data.payments.contains_key(&payment_key) =>
            {
                data.invoices.insert(invoice_key, updated.clone());
                data.payments.insert(payment_key, payment.clone());
                data.payment_keys
                    .insert(marker, (payment.id.clone(), key.fingerprint.clone()));
                Ok(Recorded::New)
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn payment_for_key(
        &self,
        owner: &str,
        key: &str,
    ) -> Result<Option<KeyedPayment>, StoreError> {
        Ok(self
            .data()?
            .payment_keys
            .get(&(owner.to_owned(), key.to_owned()))
            .map(|(payment_id, fingerprint)| KeyedPayment {
                payment_id: payment_id.clone(),
                fingerprint: fingerprint.clone(),
            }))
    }

    async fn get_payment(&self, owner: &str, id: &str) -> Result<Option<Payment>, StoreError> {
        Ok(self
            .data()?
            .payments
            .get(&(owner.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn list_payments(
        &self,
        owner: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Payment>, StoreError> {
        newest_first(&self.data()?.payments, owner, limit, after)
    }
}
