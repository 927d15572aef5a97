//! Keyword enums shared by the report types.
//!
//! Reporters write `PASS`, ` pass ` and `Pass`; all read as [`DmarcResult::Pass`].
//! A keyword we have no name for survives as `Unknown(text)` (serialised as the
//! text): a check, not the parser, decides what it means.

/// Define a keyword enum with a case-insensitive parser, an `Unknown` variant,
/// and serde as the canonical lower-case keyword.
macro_rules! keyword_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident => $kw:literal $(| $alt:literal)*),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* #[doc = concat!("The keyword `", $kw, "`.")] $var,)+
            /// A keyword not defined by the RFCs ward knows, kept as written.
            Unknown(String),
        }

        impl $name {
            /// Read a keyword, ignoring ASCII case and surrounding whitespace.
            pub fn parse(text: &str) -> Self {
                let t = text.trim();
                $(
                    if t.eq_ignore_ascii_case($kw) $(|| t.eq_ignore_ascii_case($alt))* {
                        return $name::$var;
                    }
                )+
                $name::Unknown(t.to_owned())
            }

            /// The canonical keyword.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$var => $kw,)+
                    $name::Unknown(s) => s,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum! {
    /// DMARC identifier alignment mode (`adkim`, `aspf`).
    Alignment { Relaxed => "r" | "relaxed", Strict => "s" | "strict" }
}

keyword_enum! {
    /// A DMARC policy (`p`, `sp`, `np`) or the disposition applied to a message.
    /// `pass` is only a disposition (RFC 9990).
    Disposition { None => "none", Quarantine => "quarantine", Reject => "reject", Pass => "pass" }
}

keyword_enum! {
    /// The DMARC-aligned outcome of DKIM or SPF in `policy_evaluated`.
    DmarcResult { Pass => "pass", Fail => "fail" }
}

keyword_enum! {
    /// A DKIM verification result (RFC 8601 §2.7.1).
    DkimResult {
        None => "none", Pass => "pass", Fail => "fail", Policy => "policy",
        Neutral => "neutral", TempError => "temperror", PermError => "permerror",
    }
}

keyword_enum! {
    /// An SPF result (RFC 7208 §2.6).
    SpfResult {
        None => "none", Neutral => "neutral", Pass => "pass", Fail => "fail" | "hardfail",
        SoftFail => "softfail", TempError => "temperror", PermError => "permerror",
    }
}

keyword_enum! {
    /// Which identity SPF checked.
    SpfScope { Helo => "helo", MailFrom => "mfrom" }
}

keyword_enum! {
    /// Why a receiver overrode the published policy. `forwarded` and
    /// `sampled_out` are RFC 7489 only; `policy_test_mode` is RFC 9990 only.
    PolicyOverride {
        Forwarded => "forwarded", SampledOut => "sampled_out",
        TrustedForwarder => "trusted_forwarder", MailingList => "mailing_list",
        LocalPolicy => "local_policy", PolicyTestMode => "policy_test_mode", Other => "other",
    }
}

keyword_enum! {
    /// How the receiver found the DMARC policy (RFC 9990).
    DiscoveryMethod { Psl => "psl", TreeWalk => "treewalk" }
}

keyword_enum! {
    /// ARF `Feedback-Type` (RFC 5965 §7.3, RFC 6591).
    FeedbackType {
        Abuse => "abuse", AuthFailure => "auth-failure", Fraud => "fraud",
        NotSpam => "not-spam", Other => "other", Virus => "virus",
    }
}

keyword_enum! {
    /// `Auth-Failure` of an authentication failure report (RFC 6591 §3.2.2, RFC 9991).
    AuthFailure {
        Adsp => "adsp", BodyHash => "bodyhash", Revoked => "revoked",
        Signature => "signature", Spf => "spf", Dmarc => "dmarc",
    }
}

keyword_enum! {
    /// `Delivery-Result` of an authentication failure report (RFC 6591 §3.2.2).
    DeliveryResult {
        Delivered => "delivered", Spam => "spam", Policy => "policy",
        Reject => "reject", Other => "other",
    }
}

keyword_enum! {
    /// TLS-RPT `policy-type` (RFC 8460 §4.4).
    PolicyType { Tlsa => "tlsa", Sts => "sts", NoPolicyFound => "no-policy-found" }
}

keyword_enum! {
    /// TLS-RPT `result-type` (RFC 8460 §4.3).
    ResultType {
        StarttlsNotSupported => "starttls-not-supported",
        CertificateHostMismatch => "certificate-host-mismatch",
        CertificateExpired => "certificate-expired",
        CertificateNotTrusted => "certificate-not-trusted",
        ValidationFailure => "validation-failure",
        TlsaInvalid => "tlsa-invalid",
        DnssecInvalid => "dnssec-invalid",
        DaneRequired => "dane-required",
        StsPolicyFetchError => "sts-policy-fetch-error",
        StsPolicyInvalid => "sts-policy-invalid",
        StsWebpkiInvalid => "sts-webpki-invalid",
    }
}
