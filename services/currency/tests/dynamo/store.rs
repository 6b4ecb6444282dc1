//! The DynamoDB stores: the read model only moves forward (ties between commands are told from
//! redeliveries), a command id is stored once, command statuses move forward only; failures.

use std::future::Future;
use std::sync::Arc;

use currency::domain::{Outcome, Status};
use currency::store::{
    ApplyOutcome, CommandStore, CurrencyReader, CurrencyWriter, DynamoCommandStore,
    DynamoCurrencies, Inserted, StoreError,
};
use money::CurrencyRecord;
use testkit::concurrently;
use testkit::moto::{client_for, dead_endpoint};

use crate::helpers::{codes, command_record, delete, env, now, text, upsert};

#[tokio::test]
async fn read_model_only_moves_forward_and_hides_tombstones() {
    let e = env().await;
    let w = &e.currencies;
    assert_eq!(
        w.apply(&upsert("a", "EUR", "1.10", 2), now()).await,
        Ok(ApplyOutcome::Written)
    );
    assert_eq!(
        w.apply(&upsert("b", "USD", "1", 1), now()).await,
        Ok(ApplyOutcome::Written)
    );
    // Older and equal versions change nothing and report the current version.
    assert_eq!(
        w.apply(&upsert("old", "EUR", "9", 1), now()).await,
        Ok(ApplyOutcome::Stale { current: 2 })
    );
    assert_eq!(
        w.apply(&upsert("a", "EUR", "1.10", 2), now()).await,
        Ok(ApplyOutcome::Stale { current: 2 })
    );
    let listed = e.listed().await;
    assert_eq!(codes(&listed), ["EUR", "USD"]);
    assert_eq!(listed[0].rate_to_base.to_string(), "1.1");
    assert_eq!(listed[0].version, 2);

    // The stored item is the shared read-model layout: rate as a decimal string attribute.
    let item = e.stored_currency("EUR").await;
    assert_eq!(text(&item, "rate_to_base"), Some("1.1"));
    assert!(matches!(CurrencyRecord::from_item(&item), Ok(Some(r)) if r.version == 2));

    // Delete → tombstone: gone from the list, and a late create cannot resurrect it.
    assert_eq!(
        w.apply(&delete("d", "EUR", 3), now()).await,
        Ok(ApplyOutcome::Written)
    );
    assert_eq!(
        w.apply(&upsert("late", "EUR", "5", 2), now()).await,
        Ok(ApplyOutcome::Stale { current: 3 })
    );
    assert_eq!(codes(&e.listed().await), ["USD"]);
    assert_eq!(
        w.apply(&upsert("new", "EUR", "1.2", 4), now()).await,
        Ok(ApplyOutcome::Written)
    );
    assert_eq!(e.currencies.list().await.map(|l| l.len()), Ok(2));
}

#[tokio::test]
async fn concurrent_applies_leave_the_highest_sequence() {
    let e = env().await;
    let writer = Arc::new(e.currencies.clone());
    let tasks: Vec<_> = (1..=12_u64)
        .rev()
        .map(|sequence| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .apply(
                        &upsert(
                            &format!("c{sequence}"),
                            "GBP",
                            &format!("1.{sequence:02}"),
                            sequence,
                        ),
                        now(),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await, Ok(Ok(_))));
    }
    let listed = e.listed().await;
    assert_eq!(listed[0].version, 12);
    assert_eq!(listed[0].rate_to_base.to_string(), "1.12");
}

/// `count` calls of `call` at once, alternately for EUR (even `i`) and USD (odd `i`): their outputs by currency.
async fn for_eur_and_usd<T, F, Fut>(count: usize, call: F) -> (Vec<T>, Vec<T>)
where
    F: Fn(usize, &'static str) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let currency = |i: usize| if i % 2 == 0 { "EUR" } else { "USD" };
    let outputs = concurrently(count, |i| call(i, currency(i))).await;
    let (mut eur, mut usd) = (Vec::new(), Vec::new());
    for (i, output) in outputs.into_iter().enumerate() {
        if currency(i) == "EUR" {
            eur.push(output);
        } else {
            usd.push(output);
        }
    }
    (eur, usd)
}

#[tokio::test]
async fn new_commands_are_stored_as_given_with_their_keys() {
    let e = env().await;
    let store = Arc::new(e.commands.clone());
    let (eur, usd) = for_eur_and_usd(12, |i, currency| {
        let store = store.clone();
        async move {
            let key = 1_795_479_302_118_403 + i as u64;
            let record = command_record(&upsert(&format!("cmd-{i}"), currency, "1.5", key));
            let inserted = store.insert(&record).await;
            (record, inserted)
        }
    })
    .await;
    for (record, inserted) in eur.into_iter().chain(usd) {
        assert_eq!(inserted, Ok(Inserted::New));
        let stored = store
            .get(&record.id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            stored.as_ref(),
            Some(&record),
            "stored as given, key included"
        );
    }
}

#[tokio::test]
async fn a_taken_command_id_is_found_not_stored_again() {
    let e = env().await;
    let s = &e.commands;
    let first = command_record(&upsert("cmd-1", "EUR", "1.1", 10));
    assert_eq!(s.insert(&first).await, Ok(Inserted::New));
    // A retry stamps a later key: the stored command (and its key) wins.
    let retry = command_record(&upsert("cmd-1", "EUR", "1.1", 11));
    assert_eq!(
        s.insert(&retry).await,
        Ok(Inserted::Existing(Box::new(first)))
    );
}

#[tokio::test]
async fn equal_keys_of_two_commands_are_a_tie_not_a_duplicate() {
    let e = env().await;
    let (w, s) = (&e.currencies, &e.commands);
    let first = upsert("cmd-a", "NOK", "0.091", 5);
    let second = upsert("cmd-b", "NOK", "0.092", 5);
    for command in [&first, &second] {
        assert_eq!(s.insert(&command_record(command)).await, Ok(Inserted::New));
    }
    assert_eq!(
        w.apply_and_mark(&first, now()).await,
        Ok((ApplyOutcome::Written, true))
    );
    assert_eq!(
        w.apply_and_mark(&second, now()).await,
        Ok((ApplyOutcome::Tied, false))
    );
    assert_eq!(w.apply(&second, now()).await, Ok(ApplyOutcome::Tied));
    // The first command's redelivery is still a duplicate.
    assert_eq!(
        w.apply_and_mark(&first, now()).await,
        Ok((ApplyOutcome::Stale { current: 5 }, false))
    );
    let item = e.stored_currency("NOK").await;
    assert_eq!(
        text(&item, "command_id"),
        Some("cmd-a"),
        "the read model records which command wrote it"
    );
    assert!(
        matches!(CurrencyRecord::from_item(&item), Ok(Some(r)) if r.rate_to_base.to_string() == "0.091")
    );
}

#[tokio::test]
async fn the_projectors_write_marks_the_status_in_the_same_transaction() {
    let e = env().await;
    let (w, s) = (&e.currencies, &e.commands);
    let first = upsert("cmd-1", "EUR", "1.1", 1);
    assert_eq!(s.insert(&command_record(&first)).await, Ok(Inserted::New));
    assert_eq!(
        w.apply_and_mark(&first, now()).await,
        Ok((ApplyOutcome::Written, true))
    );
    let stored = e.stored_command("cmd-1").await;
    assert_eq!(
        (stored.status, stored.outcome),
        (Status::Applied, Some(Outcome::Written))
    );
    // A redelivery writes nothing and marks nothing.
    assert_eq!(
        w.apply_and_mark(&first, now()).await,
        Ok((ApplyOutcome::Stale { current: 1 }, false))
    );
    // A command whose status is gone (expired) still reaches the read model.
    let orphan = upsert("cmd-gone", "EUR", "1.2", 2);
    assert_eq!(
        w.apply_and_mark(&orphan, now()).await,
        Ok((ApplyOutcome::Written, false))
    );
    let listed = w.list().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (listed[0].version, listed[0].rate_to_base.to_string()),
        (2, "1.2".to_owned())
    );
}

#[tokio::test]
async fn the_newest_command_marks_the_ones_it_overtook_in_its_transaction() {
    let e = env().await;
    let (w, s) = (&e.currencies, &e.commands);
    let commands = [
        upsert("o-1", "HUF", "0.0025", 10),
        upsert("o-2", "HUF", "0.0026", 20),
        upsert("o-3", "HUF", "0.0027", 30),
    ];
    for command in &commands {
        assert_eq!(s.insert(&command_record(command)).await, Ok(Inserted::New));
    }
    let older = ["o-1".to_owned(), "o-2".to_owned()];
    assert_eq!(
        w.apply_and_mark_overtaking(&commands[2], now(), &older)
            .await,
        Ok((ApplyOutcome::Written, true, true))
    );
    for (id, outcome) in [
        ("o-1", Outcome::Superseded),
        ("o-2", Outcome::Superseded),
        ("o-3", Outcome::Written),
    ] {
        let stored = s
            .get(id)
            .await
            .ok()
            .flatten()
            .map(|c| (c.status, c.outcome));
        assert_eq!(stored, Some((Status::Applied, Some(outcome))), "{id}");
    }
    // An overtaken status that refuses (already applied here) falls back to the newest alone.
    let newer = upsert("o-4", "HUF", "0.0028", 40);
    assert_eq!(s.insert(&command_record(&newer)).await, Ok(Inserted::New));
    assert_eq!(
        w.apply_and_mark_overtaking(&newer, now(), &["o-1".to_owned()])
            .await,
        Ok((ApplyOutcome::Written, true, false))
    );
    assert_eq!(
        w.list().await.ok().map(|l| l[0].rate_to_base.to_string()),
        Some("0.0028".to_owned())
    );
    // Refused by the read model: nothing marked.
    assert_eq!(
        w.apply_and_mark_overtaking(&commands[2], now(), &["o-2".to_owned()])
            .await,
        Ok((ApplyOutcome::Stale { current: 40 }, false, false))
    );
    // More than one transaction can hold: the newest alone; the caller marks the others.
    let newest = upsert("o-5", "HUF", "0.0029", 50);
    assert_eq!(s.insert(&command_record(&newest)).await, Ok(Inserted::New));
    let many: Vec<String> = (0..99).map(|i| format!("many-{i}")).collect();
    assert_eq!(
        w.apply_and_mark_overtaking(&newest, now(), &many).await,
        Ok((ApplyOutcome::Written, true, false))
    );
}

#[tokio::test]
async fn command_statuses_store_once_and_move_forward_only() {
    let e = env().await;
    let s = &e.commands;
    let message = upsert("cmd-1", "EUR", "1.1", 1);
    let record = command_record(&message);
    assert_eq!(s.insert(&record).await, Ok(Inserted::New));
    assert_eq!(s.get("cmd-1").await, Ok(Some(record.clone())), "round trip");
    let mut other = record.clone();
    other.fingerprint = "other".into();
    assert_eq!(
        s.insert(&other).await,
        Ok(Inserted::Existing(Box::new(record.clone())))
    );
    assert_eq!(s.get("missing").await, Ok(None));

    // accepted → rejected → applied (truth wins) → nothing more.
    assert_eq!(s.mark_rejected("cmd-1", "gave up", "t1").await, Ok(true));
    assert_eq!(s.mark_rejected("cmd-1", "again", "t2").await, Ok(false));
    assert_eq!(
        s.mark_applied("cmd-1", Outcome::Written, "t3").await,
        Ok(true)
    );
    assert_eq!(
        s.mark_applied("cmd-1", Outcome::Superseded, "t4").await,
        Ok(false)
    );
    assert_eq!(s.mark_rejected("cmd-1", "late", "t5").await, Ok(false));
    let stored = e.stored_command("cmd-1").await;
    assert_eq!(stored.status, Status::Applied);
    assert_eq!(stored.outcome, Some(Outcome::Written));
    assert_eq!(stored.reason, None);
    assert_eq!(stored.updated_at, "t3");
    // Unknown ids are no-ops, never half-created items.
    assert_eq!(
        s.mark_applied("ghost", Outcome::Written, "t").await,
        Ok(false)
    );
    assert_eq!(s.get("ghost").await, Ok(None));
}

#[tokio::test]
async fn unreachable_dynamodb_is_unavailable() {
    let client = client_for(&dead_endpoint());
    let listed = DynamoCurrencies::new(client.clone(), "t").list().await;
    assert!(
        matches!(listed, Err(StoreError::Unavailable(_))),
        "{listed:?}"
    );
    let commands = DynamoCommandStore::new(client, "t");
    assert!(matches!(
        commands
            .insert(&command_record(&upsert("cmd-1", "EUR", "1.1", 1)))
            .await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn missing_table_is_internal() {
    let e = env().await;
    let reader = DynamoCurrencies::new(e.client.clone(), "no-such-table");
    assert!(matches!(reader.list().await, Err(StoreError::Internal(_))));
}
