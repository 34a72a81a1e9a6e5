//! Which URL serves each region: `https://ecs.<region>.aliyuncs.com/` by default, or one
//! `--endpoint` for every region.
//!
//! TLS certificates are always verified. A plain `http://` endpoint is refused unless its host
//! is a loopback address, because passwords and signatures would otherwise cross a network in
//! the clear. An endpoint may not carry a user name, password, query or fragment, so that no
//! URL passform prints or logs can hold a secret.

use std::net::IpAddr;

use reqwest::Url;

use crate::report::Hint;

/// Where requests go.
#[derive(Debug, Clone)]
pub enum Endpoints {
    /// The public regional endpoints.
    Regional,
    /// One endpoint for every region (an emulator, a proxy, a VPC endpoint).
    Override(Url),
}

/// Why an endpoint was refused.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The text is not a URL.
    #[error("the endpoint `{endpoint}` is not a valid URL")]
    Invalid {
        /// What the user gave.
        endpoint: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },
    /// Plain http to a host that is not loopback.
    #[error("the endpoint `{endpoint}` uses plain http to a host that is not a loopback address")]
    Insecure {
        /// What the user gave.
        endpoint: String,
    },
    /// A scheme other than http or https.
    #[error("the endpoint `{endpoint}` uses the scheme `{scheme}`")]
    UnsupportedScheme {
        /// What the user gave.
        endpoint: String,
        /// The scheme.
        scheme: String,
    },
    /// User info, query or fragment in the endpoint.
    #[error("the endpoint `{endpoint}` carries a user name, password, query or fragment")]
    ExtraParts {
        /// The endpoint without those parts.
        endpoint: String,
    },
    /// A region id that cannot be part of a host name.
    #[error("`{region}` is not a valid region id")]
    InvalidRegion {
        /// The region id.
        region: String,
    },
}

impl Hint for EndpointError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Invalid { .. } | Self::UnsupportedScheme { .. } => {
                "give --endpoint / PASSFORM_ENDPOINT as a URL such as \
                 https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080"
                    .to_owned()
            }
            Self::Insecure { .. } => {
                "use https:// for a remote endpoint; plain http:// is only for loopback".to_owned()
            }
            Self::ExtraParts { .. } => {
                "give only scheme, host and port; credentials come from the environment or a \
                 profile, never from the URL"
                    .to_owned()
            }
            Self::InvalidRegion { .. } => {
                "use a region id such as cn-hangzhou in the document".to_owned()
            }
        })
    }
}

impl Endpoints {
    /// Checks an `--endpoint` value, or chooses the regional endpoints when there is none.
    pub fn from_setting(endpoint: Option<&str>) -> Result<Self, EndpointError> {
        let Some(text) = endpoint else {
            return Ok(Self::Regional);
        };
        let url = Url::parse(text).map_err(|source| EndpointError::Invalid {
            endpoint: text.to_owned(),
            source,
        })?;
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            let mut bare = url.clone();
            let _ = bare.set_username("");
            let _ = bare.set_password(None);
            bare.set_query(None);
            bare.set_fragment(None);
            return Err(EndpointError::ExtraParts {
                endpoint: bare.to_string(),
            });
        }
        match url.scheme() {
            "https" => Ok(Self::Override(url)),
            "http" if is_loopback(&url) => Ok(Self::Override(url)),
            "http" => Err(EndpointError::Insecure {
                endpoint: text.to_owned(),
            }),
            scheme => Err(EndpointError::UnsupportedScheme {
                endpoint: text.to_owned(),
                scheme: scheme.to_owned(),
            }),
        }
    }

    /// Returns true for a plain `http://` endpoint, which is always a loopback address.
    pub fn is_plain_http(&self) -> bool {
        matches!(self, Self::Override(url) if url.scheme() == "http")
    }

    /// The URL that serves `region`.
    pub fn url_for(&self, region: &str) -> Result<Url, EndpointError> {
        match self {
            Self::Override(url) => Ok(url.clone()),
            Self::Regional => {
                let valid = !region.is_empty()
                    && region.bytes().all(|byte| {
                        byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-'
                    });
                if !valid {
                    return Err(EndpointError::InvalidRegion {
                        region: region.to_owned(),
                    });
                }
                Url::parse(&format!("https://ecs.{region}.aliyuncs.com/")).map_err(|source| {
                    EndpointError::Invalid {
                        endpoint: region.to_owned(),
                        source,
                    }
                })
            }
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_gets_its_own_https_endpoint_by_default() {
        let endpoints = Endpoints::from_setting(None).unwrap();
        assert_eq!(
            endpoints.url_for("cn-hangzhou").unwrap().as_str(),
            "https://ecs.cn-hangzhou.aliyuncs.com/"
        );
        assert_eq!(
            endpoints.url_for("eu-central-1").unwrap().as_str(),
            "https://ecs.eu-central-1.aliyuncs.com/"
        );
    }

    #[test]
    fn a_region_that_is_not_a_host_name_label_is_refused() {
        let endpoints = Endpoints::from_setting(None).unwrap();
        for region in ["", "evil.example.com/", "CN-HANGZHOU", "a b"] {
            assert!(matches!(
                endpoints.url_for(region),
                Err(EndpointError::InvalidRegion { .. })
            ));
        }
    }

    #[test]
    fn an_override_serves_every_region() {
        let endpoints = Endpoints::from_setting(Some("https://proxy.example.com:8443")).unwrap();
        assert_eq!(
            endpoints.url_for("cn-beijing").unwrap().as_str(),
            "https://proxy.example.com:8443/"
        );
    }

    #[test]
    fn plain_http_is_accepted_only_for_loopback() {
        for loopback in [
            "http://127.0.0.1:8080",
            "http://[::1]:80",
            "http://localhost:9",
        ] {
            assert!(
                Endpoints::from_setting(Some(loopback)).is_ok(),
                "{loopback}"
            );
        }
        assert!(
            Endpoints::from_setting(Some("http://127.0.0.1:8080"))
                .unwrap()
                .is_plain_http()
        );
        assert!(!Endpoints::from_setting(None).unwrap().is_plain_http());
        for remote in [
            "http://10.0.0.1:8080",
            "http://ecs.cn-hangzhou.aliyuncs.com",
        ] {
            let error = Endpoints::from_setting(Some(remote)).unwrap_err();
            assert!(matches!(error, EndpointError::Insecure { .. }), "{remote}");
            assert!(error.hint().unwrap().contains("https://"));
        }
    }

    #[test]
    fn an_endpoint_with_credentials_in_it_is_refused_without_echoing_them() {
        let error = Endpoints::from_setting(Some("https://user:hunter2@example.com/?token=abc"))
            .unwrap_err();
        assert!(matches!(error, EndpointError::ExtraParts { .. }));
        let message = error.to_string();
        assert!(!message.contains("hunter2"));
        assert!(!message.contains("abc"));
    }

    #[test]
    fn text_that_is_not_a_url_or_uses_another_scheme_is_refused() {
        assert!(matches!(
            Endpoints::from_setting(Some("not a url")),
            Err(EndpointError::Invalid { .. })
        ));
        assert!(matches!(
            Endpoints::from_setting(Some("ftp://127.0.0.1")),
            Err(EndpointError::UnsupportedScheme { .. })
        ));
    }
}
