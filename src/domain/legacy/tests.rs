use super::*;

fn moscow() -> TimeZone {
    crate::domain::shop_time_zone("Europe/Moscow").unwrap()
}

#[test]
fn every_status_code_of_status_bot_has_its_status_here() {
    for (code, ours) in [
        ("NEW", OrderStatus::New),
        ("ASSIGNED", OrderStatus::Assigned),
        ("ACCEPTED", OrderStatus::Accepted),
        ("ONSITE", OrderStatus::OnSite),
        ("DR", OrderStatus::LongRepair),
        ("CLOSED", OrderStatus::Closed),
        ("REFUSED", OrderStatus::Refused),
        ("closed", OrderStatus::Closed),
    ] {
        assert_eq!(status(code), Some(ours), "{code}");
    }
    for code in ["", "DONE", "IN_PROGRESS", "CANCELLED"] {
        assert_eq!(status(code), None, "{code}");
    }
}

#[test]
fn role_strings_are_read_token_by_token() {
    use Role::*;
    for (text, roles_, senior) in [
        ("ADMIN", vec![Admin], false),
        ("DISPATCHER,MASTER", vec![Master, Dispatcher], false),
        ("MASTER,SENIOR_MASTER", vec![Master], true),
        ("ADMIN,MASTER", vec![Master, Admin], false),
        ("MASTER, DISPATCHER", vec![Master, Dispatcher], false),
        ("UNKNOWN", vec![], false),
        ("", vec![], false),
    ] {
        let got = roles(text).unwrap();
        assert_eq!(got.roles, roles_, "{text}");
        assert_eq!(got.senior, senior, "{text}");
    }
    assert_eq!(roles("MASTER,OWNER"), Err("OWNER".to_string()));
}

#[test]
fn the_ten_equipment_labels_map_to_ten_kinds() {
    use ApplianceKind::*;
    for (label, kind) in [
        ("Стиральные машины", WashingMachine),
        ("Сушильные машины", Dryer),
        ("ДШ/ВП", Oven),
        ("Посудомоечная машина", Dishwasher),
        ("Кофе машина", CoffeeMachine),
        ("Сантехника", Plumbing),
        ("Электрика", Electrical),
        ("Водонагреватели", WaterHeater),
        ("Телевизоры", Tv),
        ("Холодильники", Refrigerator),
        ("Пылесос", Other),
    ] {
        assert_eq!(equipment(label), kind, "{label}");
    }
}

#[test]
fn a_free_text_specialization_names_every_kind_in_it() {
    use ApplianceKind::*;
    for (text, kinds) in [
        ("Холодильники", vec![Refrigerator]),
        ("Электрика, сантехника", vec![Electrical, Plumbing]),
        ("Телевизоры, кофемашины", vec![Tv, CoffeeMachine]),
        (
            "Стиральные и посудомоечные машины",
            vec![WashingMachine, Dishwasher],
        ),
        (
            "Универсал: стиралки, сушилки, ДШ/ВП",
            vec![WashingMachine, Dryer, Oven],
        ),
        ("Водонагреватели, сантехника", vec![WaterHeater, Plumbing]),
        ("всё подряд", vec![]),
    ] {
        assert_eq!(specialization(text), kinds, "{text}");
    }
}

#[test]
fn money_is_read_exactly_to_the_kopeck() {
    for (text, kopecks) in [
        ("3500.0", 350_000),
        ("3500", 350_000),
        ("0.0", 0),
        ("880.3", 88_030),
        ("880.3000000000001", 88_030),
        ("2500.5", 250_050),
        ("2500,50", 250_050),
        ("99.995", 10_000),
        ("99.994", 9_999),
        ("12345678.9", 1_234_567_890),
    ] {
        assert_eq!(money(text).unwrap().kopecks(), kopecks, "{text}");
    }
    for text in ["", "-5", "1e5", "abc", "12.5.6", "1.0e+15"] {
        assert!(money(text).is_err(), "{text}");
    }
}

#[test]
fn time_stamps_of_each_writer_are_read_in_their_own_zone() {
    let tz = moscow();
    let utc = |s: &str| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .unwrap()
    };
    // The ORM: Moscow local time with microseconds.
    assert_eq!(
        timestamp("2026-09-10 10:09:06.772503", &tz),
        Ok(utc("2026-09-10T07:09:06.772Z"))
    );
    // The inline-SQL steps: an aware value.
    assert_eq!(
        timestamp("2026-10-29 12:07:16.694018+03:00", &tz),
        Ok(utc("2026-10-29T09:07:16.694Z"))
    );
    // SQLite's CURRENT_TIMESTAMP: UTC without a fraction.
    assert_eq!(
        timestamp("2026-09-04 12:20:19", &tz),
        Ok(utc("2026-09-04T12:20:19Z"))
    );
    assert_eq!(
        timestamp("2026-09-04T12:20:19.5", &tz),
        Ok(utc("2026-09-04T09:20:19.5Z"))
    );
    for bad in [
        "",
        "вчера",
        "2026-13-01 10:00:00",
        "1700000000",
        "Понедельник утром после обеда",
    ] {
        assert!(timestamp(bad, &tz).is_err(), "{bad}");
    }
}

#[test]
fn the_visit_words_are_the_latest_recognised_ones() {
    for (stored, words) in [
        ("25.10.2026 14:00", "25.10.2026 14:00"),
        ("25.10.2026 15:00 (завтра в 15:00)", "25.10.2026 15:00"),
        ("завтра в 11:00 → 09.10.2026 11:00", "09.10.2026 11:00"),
        ("с 10:00 до 12:00", "с 10:00 до 12:00"),
        ("Набрать клиенту", "Набрать клиенту"),
        ("после обеда (если дома)", "после обеда"),
    ] {
        assert_eq!(visit_words(stored), words, "{stored}");
    }
}

#[test]
fn a_due_date_without_a_time_is_due_in_the_morning() {
    let tz = moscow();
    let at = |s: &str| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .unwrap()
    };
    assert_eq!(
        due_moment("07.11.2026 10:30 (через неделю)", &tz),
        Some(at("2026-11-07T07:30:00Z"))
    );
    assert_eq!(
        due_moment("19.11.2026 00:00", &tz),
        Some(at("2026-11-19T06:00:00Z"))
    );
    assert_eq!(
        due_moment("19.11.2026", &tz),
        Some(at("2026-11-19T06:00:00Z"))
    );
    for bad in ["", "через неделю", "31.02.2026 10:00", "07.11.2026 25:00"] {
        assert_eq!(due_moment(bad, &tz), None, "{bad}");
    }
}

#[test]
fn the_long_repair_lines_leave_the_notes() {
    let dr = repair_note(
        "Домофон не работает\n\n[ДР] Требуемые запчасти: ТЭН 2 кВт\nПредварительная сумма согласования: 4500.00 ₽",
    );
    assert_eq!(dr.parts.as_deref(), Some("ТЭН 2 кВт"));
    assert_eq!(dr.agreed, Some(Money::from_roubles(4500)));
    assert_eq!(dr.rest.as_deref(), Some("Домофон не работает"));

    let only = repair_note("[ДР] Предварительная сумма согласования: 8200.00 ₽");
    assert_eq!(only.parts, None);
    assert_eq!(only.agreed, Some(Money::from_roubles(8200)));
    assert_eq!(only.rest, None);

    let plain = repair_note("Клиент просит позвонить за час ☎️");
    assert_eq!(plain.parts, None);
    assert_eq!(plain.agreed, None);
    assert_eq!(
        plain.rest.as_deref(),
        Some("Клиент просит позвонить за час ☎️")
    );
}

#[test]
fn each_recorded_transition_is_an_action_here() {
    use ActionKind as A;
    use OrderStatus as S;
    for (from, to, action) in [
        (Some(S::Assigned), S::Accepted, A::Accept),
        (Some(S::Accepted), S::OnSite, A::StartWork),
        (Some(S::LongRepair), S::OnSite, A::ResumeWork),
        (Some(S::OnSite), S::LongRepair, A::WaitParts),
        (Some(S::OnSite), S::Closed, A::Finish),
        (Some(S::LongRepair), S::Closed, A::Finish),
        (Some(S::New), S::Refused, A::Refuse),
        (Some(S::OnSite), S::Refused, A::Refuse),
        (Some(S::Refused), S::New, A::Reopen),
        (Some(S::Assigned), S::New, A::Unassign),
        (Some(S::New), S::Assigned, A::Assign),
        (None, S::New, A::Edit),
    ] {
        assert_eq!(history_action(from, to), action, "{from:?} → {to:?}");
    }
    assert_eq!(
        history_role(A::Accept, &[Role::Master, Role::Dispatcher]),
        Role::Master
    );
    assert_eq!(
        history_role(A::Refuse, &[Role::Master, Role::Dispatcher]),
        Role::Dispatcher
    );
    assert_eq!(history_role(A::Refuse, &[]), Role::Master);
}
