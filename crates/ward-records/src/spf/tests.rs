use super::*;

fn p(s: &str) -> Result<SpfRecord, SpfError> {
    parse(s, &Limits::default())
}

fn mechs(s: &str) -> Vec<(Qualifier, Mechanism)> {
    p(s).expect("valid record")
        .directives()
        .map(|d| (d.qualifier, d.mechanism.clone()))
        .collect()
}

fn lit(s: &str) -> MacroString {
    MacroString {
        raw: s.into(),
        items: vec![MacroItem::Literal(s.into())],
    }
}

#[test]
fn version_selection() {
    assert!(is_spf1("v=spf1"));
    assert!(is_spf1("V=SPF1 -all"));
    assert!(!is_spf1("v=spf1mx"));
    assert!(!is_spf1("v=spf10"));
    assert!(!is_spf1("v=spf"));
    assert!(!is_spf1(" v=spf1"));
    assert_eq!(p("v=spf2 -all"), Err(SpfError::NotSpf1 { at: 0 }));
}

#[test]
fn all_mechanisms_with_qualifiers() {
    let got = mechs(
        "v=spf1 +all -include:_spf.example.com ~a ?mx:mx.example.com/24//64 ptr \
         ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{i}.x.example.com",
    );
    assert_eq!(got.len(), 8);
    assert_eq!(got[0], (Qualifier::Pass, Mechanism::All));
    assert_eq!(
        got[1],
        (
            Qualifier::Fail,
            Mechanism::Include {
                domain: lit("_spf.example.com")
            }
        )
    );
    assert_eq!(
        got[2],
        (
            Qualifier::SoftFail,
            Mechanism::A {
                domain: None,
                cidr: DualCidr::default()
            }
        )
    );
    assert_eq!(
        got[3],
        (
            Qualifier::Neutral,
            Mechanism::Mx {
                domain: Some(lit("mx.example.com")),
                cidr: DualCidr {
                    ip4: Some(24),
                    ip6: Some(64)
                }
            }
        )
    );
    assert_eq!(got[4], (Qualifier::Pass, Mechanism::Ptr { domain: None }));
    assert_eq!(
        got[5],
        (
            Qualifier::Pass,
            Mechanism::Ip4 {
                addr: Ipv4Addr::new(192, 0, 2, 0),
                prefix: Some(24)
            }
        )
    );
    assert_eq!(
        got[6],
        (
            Qualifier::Pass,
            Mechanism::Ip6 {
                addr: "2001:db8::".parse().expect("v6"),
                prefix: Some(32)
            }
        )
    );
    assert!(matches!(got[7].1, Mechanism::Exists { .. }));
}

#[test]
fn dual_cidr_forms() {
    let cidr = |s: &str| match mechs(s).into_iter().next() {
        Some((_, Mechanism::A { cidr, .. })) => cidr,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        cidr("v=spf1 a//64"),
        DualCidr {
            ip4: None,
            ip6: Some(64)
        }
    );
    assert_eq!(
        cidr("v=spf1 a/0"),
        DualCidr {
            ip4: Some(0),
            ip6: None
        }
    );
    assert_eq!(
        cidr("v=spf1 a:x.example/32//128"),
        DualCidr {
            ip4: Some(32),
            ip6: Some(128)
        }
    );
}

#[test]
fn cidr_errors() {
    assert_eq!(
        p("v=spf1 a/33"),
        Err(SpfError::InvalidCidr {
            text: "33".into(),
            max: 32,
            at: 8
        })
    );
    assert_eq!(
        p("v=spf1 a//129"),
        Err(SpfError::InvalidCidr {
            text: "129".into(),
            max: 128,
            at: 8
        })
    );
    assert_eq!(
        p("v=spf1 ip4:192.0.2.0/024"),
        Err(SpfError::InvalidCidr {
            text: "024".into(),
            max: 32,
            at: 20
        })
    );
    assert_eq!(
        p("v=spf1 ip6:::1/"),
        Err(SpfError::InvalidCidr {
            text: "".into(),
            max: 128,
            at: 14
        })
    );
}

#[test]
fn modifiers() {
    let r = p("v=spf1 mx redirect=_spf.example.com exp=why.%{d} ra=postmaster rp=15 x-y.z=")
        .expect("valid");
    assert_eq!(r.redirect(), Some(&lit("_spf.example.com")));
    assert_eq!(r.exp().map(|e| e.raw.as_str()), Some("why.%{d}"));
    let unknown: Vec<_> = r
        .modifiers()
        .filter_map(|m| match &m.modifier {
            Modifier::Unknown { name, value } => Some((name.as_str(), value.raw.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        unknown,
        vec![("ra", "postmaster"), ("rp", "15"), ("x-y.z", "")]
    );
    assert_eq!(r.own_lookup_terms(), 2);
}

#[test]
fn terms_after_all_cost_nothing() {
    let r =
        p("v=spf1 a include:x.example -all mx exists:y.example redirect=z.example").expect("valid");
    assert_eq!(r.own_lookup_terms(), 2);
    assert_eq!(r.live_directives().count(), 3);
    assert_eq!(r.live_redirect(), None);
    assert_eq!(r.redirect(), Some(&lit("z.example")));
}

#[test]
fn duplicate_and_empty_modifiers() {
    assert_eq!(
        p("v=spf1 redirect=a.example redirect=b.example"),
        Err(SpfError::DuplicateModifier {
            name: "redirect".into(),
            at: 26
        })
    );
    assert_eq!(
        p("v=spf1 exp=a.example EXP=b.example"),
        Err(SpfError::DuplicateModifier {
            name: "exp".into(),
            at: 21
        })
    );
    assert_eq!(
        p("v=spf1 redirect="),
        Err(SpfError::EmptyModifier {
            name: "redirect".into(),
            at: 7
        })
    );
}

#[test]
fn term_errors_name_the_position() {
    assert_eq!(
        p("v=spf1 -all extra"),
        Err(SpfError::UnknownMechanism {
            name: "extra".into(),
            at: 12
        })
    );
    assert_eq!(
        p("v=spf1 ip4:8.8.8.8~all"),
        Err(SpfError::InvalidIp4 {
            text: "8.8.8.8~all".into(),
            at: 11
        })
    );
    assert_eq!(
        p("v=spf1 include: x.example"),
        Err(SpfError::MissingDomainSpec {
            mechanism: "include",
            at: 15
        })
    );
    assert_eq!(
        p("v=spf1 include"),
        Err(SpfError::MissingDomainSpec {
            mechanism: "include",
            at: 14
        })
    );
    assert_eq!(
        p("v=spf1 all:x.example"),
        Err(SpfError::UnexpectedArgument {
            mechanism: "all",
            at: 10
        })
    );
    assert_eq!(
        p("v=spf1 ptr/24"),
        Err(SpfError::UnexpectedArgument {
            mechanism: "ptr",
            at: 10
        })
    );
    assert_eq!(
        p("v=spf1 ip6:1.2.3.4"),
        Err(SpfError::InvalidIp6 {
            text: "1.2.3.4".into(),
            at: 11
        })
    );
    assert_eq!(
        p("v=spf1 a:museum"),
        Err(SpfError::InvalidDomainEnd {
            domain: "museum".into(),
            at: 9
        })
    );
    assert_eq!(
        p("v=spf1 a:192.0.2.1"),
        Err(SpfError::InvalidDomainEnd {
            domain: "192.0.2.1".into(),
            at: 9
        })
    );
    assert_eq!(
        p("v=spf1 a:x.example\rptr"),
        Err(SpfError::InvalidCharacter { ch: '\r', at: 18 })
    );
    assert_eq!(
        p("v=spf1 a:\u{feff}x.example"),
        Err(SpfError::InvalidCharacter {
            ch: '\u{feff}',
            at: 9
        })
    );
    assert_eq!(
        p("v=spf1 a:%{c}.example.com"),
        Err(SpfError::Macro {
            kind: MacroErrorKind::LetterOnlyInExp { letter: 'c' },
            at: 9
        })
    );
}

#[test]
fn case_and_spaces() {
    let r = p("V=SPF1  IP4:147.75.8.208   -ALL ").expect("valid");
    assert_eq!(r.terms.len(), 2);
    assert_eq!(r.terms[1].span(), Span { start: 27, end: 31 });
    assert_eq!(r.raw, "V=SPF1  IP4:147.75.8.208   -ALL ");
}

#[test]
fn domain_ends() {
    for ok in [
        "v=spf1 a:x.example.",
        "v=spf1 a:%{d}",
        "v=spf1 exists:%{i}.%{l}%%",
        "v=spf1 a:foo.123-456",
        "v=spf1 a:x.example-com",
    ] {
        assert_eq!(p(ok).map(|_| ()), Ok(()), "{ok}");
    }
}

#[test]
fn limits_are_checked_first() {
    let limits = Limits {
        max_bytes: 10,
        max_terms: 2,
    };
    assert_eq!(
        parse("v=spf1 a mx -all", &limits),
        Err(SpfError::TooLong { len: 16, max: 10 })
    );
    let limits = Limits {
        max_bytes: 100,
        max_terms: 2,
    };
    assert_eq!(
        parse("v=spf1 a mx -all", &limits),
        Err(SpfError::TooManyTerms { max: 2, at: 12 })
    );
    assert_eq!(parse("v=spf1 a mx", &limits).map(|r| r.terms.len()), Ok(2));
}

#[test]
fn explain_strings() {
    let e = parse_explain_string(
        "%{i} is not one of %{d}'s designated mail servers.",
        &Limits::default(),
    )
    .expect("valid");
    assert_eq!(e.items.len(), 4);
    assert_eq!(
        parse_explain_string("bad %{x}", &Limits::default()),
        Err(SpfError::Macro {
            kind: MacroErrorKind::UnknownLetter { letter: 'x' },
            at: 4
        })
    );
    assert!(parse_explain_string("at %{c} via %{r} on %{t}", &Limits::default()).is_ok());
}

#[test]
fn every_truncation_is_handled() {
    let full = "v=spf1 +a:x.example/24//64 mx ip4:192.0.2.1/32 ip6:2001:db8::1/64 include:%{ir}.%{v}.%{d2r-} exists:%{l1r+}._spf.%{d} redirect=%{d} exp=e.%{o}";
    assert!(p(full).is_ok());
    for cut in 0..full.len() {
        let prefix = full.get(..cut).unwrap_or_default();
        // Must never panic; each prefix either parses or names a position inside it.
        if let Err(e) = p(prefix) {
            assert!(e.at() <= prefix.len(), "{prefix:?}: {e:?}");
        }
    }
}

#[test]
fn rebuilt_record_parses_to_the_same_terms() {
    let raw = "V=SPF1  +A:x.example/24//64 mx//0 -ptr ~ip4:192.0.2.0/24 ?ip6:2001:DB8::/32 \
               include:%{ir}.%{v}._spf.%{d2} exists:%{l1r+-}.x.example REDIRECT=%{d}.r.example \
               exp=e.example ra=postmaster -all ";
    let rec = p(raw).expect("valid");
    let rebuilt = rec.to_string();
    assert_eq!(
        rebuilt,
        "v=spf1 +a:x.example/24//64 mx//0 -ptr ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 \
         include:%{ir}.%{v}._spf.%{d2} exists:%{l1r+-}.x.example redirect=%{d}.r.example \
         exp=e.example ra=postmaster -all"
    );
    let again = p(&rebuilt).expect("rebuilt parses");
    let strip = |r: &SpfRecord| r.terms.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&rec), strip(&again));
    assert_eq!(again.to_string(), rebuilt);
}
