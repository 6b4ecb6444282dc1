//! Property: crediting never favours the payer. For random rates, minor-unit digits and amounts, every
//! credited amount is at most its exact converted value, so the total credited over many payments is at
//! most the total exact value (half-even rounding per payment broke this: 3 × 1.5 → 3 × 2).

use money::{Decimal, MoneyError, Side, credited_raw};
use num_bigint::BigUint;
use proptest::prelude::*;

fn rate() -> impl Strategy<Value = Decimal> {
    // 1e-6 ..= 1e4 with up to 6 fraction digits.
    (1_u64..=10_000_000_000).prop_map(|m| Decimal::new(i64::try_from(m).unwrap_or(1), 6))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn total_credited_never_exceeds_total_exact_value(
        from_rate in rate(),
        to_rate in rate(),
        from_mu in 0_u8..=3,
        to_mu in 0_u8..=3,
        amounts in proptest::collection::vec(1_i64..=1_000_000, 1..40),
    ) {
        // Σ credited ≤ Σ exact  ⇔  Σ credited·den ≤ Σ num (one denominator: it depends on rates only).
        let mut credited_total = BigUint::from(0_u8);
        let mut exact_total = BigUint::from(0_u8);
        let mut denominator = BigUint::from(1_u8);
        for amount in amounts {
            let (from, to) = (Side::new(from_rate, from_mu), Side::new(to_rate, to_mu));
            let (num, den) = money::convert::exact_ratio(amount.unsigned_abs(), from, to)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            denominator = den.clone();
            match credited_raw(amount, from, to) {
                Ok(credited) => {
                    prop_assert!(credited >= 1);
                    let credited = BigUint::from(credited.unsigned_abs());
                    prop_assert!(&credited * &den <= num, "one payment over-credited");
                    // …and by less than one minor unit.
                    prop_assert!((&credited + 1_u8) * &den > num);
                    credited_total += credited;
                    exact_total += num;
                }
                Err(MoneyError::BelowMinorUnit) => prop_assert!(num < den),
                Err(MoneyError::Overflow) => {}
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        prop_assert!(credited_total * denominator <= exact_total);
    }
}
