//! What of a client a master may see, and when. The shop hides the client's
//! phone from the master until they are on site (the desk arranges the
//! visit), and the flat, entrance and door codes until the master has
//! accepted the job. Staff always see everything.

use super::OrderStatus;

/// Whether the order's master may see the client's phone in `status`.
pub fn master_sees_phone(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::OnSite | OrderStatus::LongRepair | OrderStatus::Closed
    )
}

/// Whether the order's master may see the whole address in `status`
/// (before that, the street and house only).
pub fn master_sees_full_address(status: OrderStatus) -> bool {
    !matches!(status, OrderStatus::New | OrderStatus::Assigned)
}

/// A stored phone (`+79991234567`) with all but its last four digits
/// hidden: `+7 *** ***-45-67`; a foreign number keeps only its `+`.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return "***".into();
    }
    let tail = &digits[digits.len() - 4..];
    let country = match (phone.starts_with("+7"), digits.len()) {
        (true, 11) => "+7 ",
        _ => "+",
    };
    format!(
        "{country}*** ***-{}{}-{}{}",
        tail[0], tail[1], tail[2], tail[3]
    )
}

/// Words that start the private part of an address: the flat, entrance,
/// floor, door code (in the shop's and the English spelling).
const PRIVATE_PARTS: [&str; 12] = [
    "кв",
    "квартира",
    "подъезд",
    "под.",
    "эт",
    "этаж",
    "домофон",
    "код",
    "apt",
    "flat",
    "entrance",
    "floor",
];

/// The address up to the house: the segments (between commas) from the
/// first private one on are left out.
pub fn street_and_house(address: &str) -> String {
    let kept: Vec<&str> = address
        .split(',')
        .map(str::trim)
        .take_while(|part| {
            let lower = part.to_lowercase();
            !PRIVATE_PARTS.iter().any(|p| {
                lower.starts_with(p)
                    && lower[p.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphabetic() || p.ends_with('.'))
            })
        })
        .filter(|part| !part.is_empty())
        .collect();
    kept.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn phones_are_masked_but_for_the_last_four_digits() {
        assert_eq!(mask_phone("+79991234567"), "+7 *** ***-45-67");
        assert_eq!(mask_phone("+4915123456789"), "+*** ***-67-89");
        assert_eq!(mask_phone("12"), "***");
    }

    #[test]
    fn the_private_part_of_an_address_is_left_out() {
        for (full, shown) in [
            (
                "г. Москва, ул. Ленина, д. 15, кв. 42",
                "г. Москва, ул. Ленина, д. 15",
            ),
            ("ул. Мира, 3, подъезд 2, этаж 5, домофон 12К", "ул. Мира, 3"),
            ("ул. Мира, 3, кв42", "ул. Мира, 3"),
            ("Квартальная ул., 7", "Квартальная ул., 7"),
            ("12 Baker St, flat 2", "12 Baker St"),
            ("пр. Победы, 21", "пр. Победы, 21"),
        ] {
            assert_eq!(street_and_house(full), shown, "{full}");
        }
    }

    #[test]
    fn the_master_sees_more_as_the_job_goes_on() {
        use OrderStatus as S;
        for s in S::VARIANTS.iter().copied() {
            // The phone never before the address.
            assert!(!master_sees_phone(s) || master_sees_full_address(s), "{s}");
        }
        assert!(!master_sees_phone(S::Accepted) && master_sees_full_address(S::Accepted));
        assert!(master_sees_phone(S::OnSite));
        assert!(!master_sees_full_address(S::Assigned));
    }
}
