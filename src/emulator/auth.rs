//! Authentication as the real service does it: signature V2 (HMAC-SHA1 over the sorted,
//! percent-encoded parameters) and V3 (ACS3-HMAC-SHA256 over a canonical request whose headers
//! are rebuilt from the client's `SignedHeaders`), the timestamp window and nonce replay.
//!
//! This is the emulator's own implementation of the published algorithms, written apart from
//! the client's signer and checked against the published test vectors, so that one mistake
//! cannot hide in both. Checks run in a fixed order: required parameters, signature method,
//! timestamp, access key, signature, security token, and last the nonce, so that a request
//! refused for any other reason does not use up its nonce.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use super::fleet::Credentials;
use super::request::ApiRequest;
use super::response::ApiError;

/// How far a request's timestamp may be from the server's clock, either way.
pub const TIMESTAMP_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long a nonce is remembered: a request older than the window is refused anyway.
const NONCE_MEMORY: Duration = Duration::from_secs(2 * 15 * 60);

const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Percent-encodes by the signing rules: `A-Z a-z 0-9 - _ . ~` stay, every other UTF-8 byte
/// becomes `%XY` in upper-case hex (so a space is `%20` and `*` is `%2A`).
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Sorts parameters by name (then value) and joins them as encoded `name=value` pairs.
pub fn canonical_query(parameters: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = parameters.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The V2 string to sign: `METHOD&%2F&` + the encoded canonical query.
pub fn v2_string_to_sign(method: &str, parameters: &[(String, String)]) -> String {
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical_query(parameters))
    )
}

/// The V2 signature: Base64 of HMAC-SHA1 keyed with the secret followed by `&`.
pub fn v2_signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// What a V3 canonical request is built from.
#[derive(Debug)]
pub struct V3Request<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The URL path.
    pub path: &'a str,
    /// The decoded query parameters.
    pub query: &'a [(String, String)],
    /// Headers with lower-case names.
    pub headers: &'a [(String, String)],
    /// The signed header names, lower case, as the Authorization header lists them.
    pub signed_headers: &'a [String],
    /// Lower-case hex SHA-256 of the body.
    pub hashed_payload: &'a str,
}

/// The V3 canonical request: method, path, query, signed headers with their values, their
/// names, and the payload hash, one per line.
pub fn v3_canonical_request(request: &V3Request<'_>) -> String {
    let mut names: Vec<&str> = request.signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    let canonical_headers: String = names
        .iter()
        .map(|name| {
            let values: Vec<&str> = request
                .headers
                .iter()
                .filter(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.trim())
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        request.path,
        canonical_query(request.query),
        canonical_headers,
        names.join(";"),
        request.hashed_payload
    )
}

/// The V3 string to sign: the algorithm name and the hex SHA-256 of the canonical request.
pub fn v3_string_to_sign(canonical_request: &str) -> String {
    format!(
        "{V3_ALGORITHM}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The V3 signature: lower-case hex HMAC-SHA256 keyed with the bare secret.
pub fn v3_signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks requests against the fleet's access key and remembers the nonces it has seen.
///
/// Only the fleet file's one key exists, with at most one STS token; RAM permissions and
/// disabled keys are not modelled (docs/limitations.md), a test injects them as faults.
#[derive(Debug)]
pub struct Authenticator {
    credentials: Credentials,
    nonces: Mutex<NonceBook>,
}

/// A claimed identity and signature, whichever version carried it.
struct Claim<'a> {
    access_key_id: &'a str,
    timestamp: &'a str,
    nonce: &'a str,
    security_token: Option<&'a str>,
}

impl Authenticator {
    /// An authenticator for one access key.
    pub fn new(credentials: Credentials) -> Authenticator {
        Authenticator {
            credentials,
            nonces: Mutex::new(NonceBook::default()),
        }
    }

    /// Verifies a request's signature, timestamp, token and nonce at the wall time `now`.
    pub fn authenticate(&self, request: &ApiRequest, now: OffsetDateTime) -> Result<(), ApiError> {
        match request.header("authorization") {
            Some(authorization) => self.authenticate_v3(request, authorization, now),
            None => self.authenticate_v2(request, now),
        }
    }

    fn authenticate_v2(&self, request: &ApiRequest, now: OffsetDateTime) -> Result<(), ApiError> {
        let all: Vec<(String, String)> =
            request.query.iter().chain(&request.form).cloned().collect();
        let find = |name: &str| {
            all.iter()
                .find(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.as_str())
        };
        let required = |name: &str| find(name).ok_or_else(|| ApiError::missing_parameter(name));

        let signature = required("Signature")?;
        let access_key_id = required("AccessKeyId")?;
        let nonce = required("SignatureNonce")?;
        if required("SignatureMethod")? != "HMAC-SHA1" || required("SignatureVersion")? != "1.0" {
            return Err(incomplete_signature());
        }
        let timestamp = find("Timestamp").ok_or_else(illegal_timestamp)?;
        let claim = Claim {
            access_key_id,
            timestamp,
            nonce,
            security_token: find("SecurityToken"),
        };
        self.check_claim_before_signature(&claim, now)?;

        let signed: Vec<(String, String)> = all
            .iter()
            .filter(|(name, _)| name != "Signature")
            .cloned()
            .collect();
        let string_to_sign = v2_string_to_sign(&request.method, &signed);
        let expected = v2_signature(
            self.credentials.access_key_secret.expose_secret(),
            &string_to_sign,
        );
        if expected != signature {
            return Err(signature_mismatch(&string_to_sign));
        }
        self.check_claim_after_signature(&claim)
    }

    fn authenticate_v3(
        &self,
        request: &ApiRequest,
        authorization: &str,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let authorization = parse_authorization(authorization)?;
        for (name, _) in &request.headers {
            if name.starts_with("x-acs-") && !authorization.signed_headers.contains(name) {
                return Err(incomplete_signature());
            }
        }
        if !authorization
            .signed_headers
            .iter()
            .any(|name| name == "host")
        {
            return Err(incomplete_signature());
        }
        let header = |name: &str| {
            request
                .header(name)
                .ok_or_else(|| ApiError::missing_parameter(name))
        };
        let nonce = header("x-acs-signature-nonce")?;
        let timestamp = request.header("x-acs-date").ok_or_else(illegal_timestamp)?;
        let claim = Claim {
            access_key_id: &authorization.access_key_id,
            timestamp,
            nonce,
            security_token: request.header("x-acs-security-token"),
        };
        self.check_claim_before_signature(&claim, now)?;

        // The payload hash is the server's own, so a client that declares a wrong
        // x-acs-content-sha256 fails the signature check.
        let hashed_payload = sha256_hex(&request.body);
        let canonical_request = v3_canonical_request(&V3Request {
            method: &request.method,
            path: &request.path,
            query: &request.query,
            headers: &request.headers,
            signed_headers: &authorization.signed_headers,
            hashed_payload: &hashed_payload,
        });
        let string_to_sign = v3_string_to_sign(&canonical_request);
        let expected = v3_signature(
            self.credentials.access_key_secret.expose_secret(),
            &string_to_sign,
        );
        if expected != authorization.signature {
            return Err(signature_mismatch(&string_to_sign));
        }
        self.check_claim_after_signature(&claim)
    }

    fn check_claim_before_signature(
        &self,
        claim: &Claim<'_>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        check_timestamp(claim.timestamp, now)?;
        if claim.access_key_id != self.credentials.access_key_id {
            return Err(ApiError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            ));
        }
        Ok(())
    }

    fn check_claim_after_signature(&self, claim: &Claim<'_>) -> Result<(), ApiError> {
        if let Some(expected) = &self.credentials.security_token
            && claim.security_token != Some(expected.expose_secret())
        {
            return Err(ApiError::new(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token you provided does not match the access key.",
            ));
        }
        let mut nonces = self
            .nonces
            .lock()
            .expect("the nonce book is never poisoned");
        if !nonces.remember(claim.nonce, Instant::now()) {
            return Err(ApiError::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        Ok(())
    }
}

struct Authorization {
    access_key_id: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(text: &str) -> Result<Authorization, ApiError> {
    let rest = text
        .strip_prefix(V3_ALGORITHM)
        .ok_or_else(incomplete_signature)?;
    let mut access_key_id = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(incomplete_signature)?;
        match name {
            "Credential" => access_key_id = Some(value.to_owned()),
            "SignedHeaders" => {
                signed_headers = Some(value.split(';').map(str::to_ascii_lowercase).collect())
            }
            "Signature" => signature = Some(value.to_owned()),
            _ => return Err(incomplete_signature()),
        }
    }
    match (access_key_id, signed_headers, signature) {
        (Some(access_key_id), Some(signed_headers), Some(signature)) => Ok(Authorization {
            access_key_id,
            signed_headers,
            signature,
        }),
        _ => Err(incomplete_signature()),
    }
}

fn check_timestamp(text: &str, now: OffsetDateTime) -> Result<(), ApiError> {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let at = time::PrimitiveDateTime::parse(text, format)
        .map_err(|_| {
            ApiError::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?
        .assume_utc();
    if (now - at).unsigned_abs() > TIMESTAMP_WINDOW {
        return Err(ApiError::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

fn incomplete_signature() -> ApiError {
    ApiError::new(
        400,
        "IncompleteSignature",
        "The request signature does not conform to Aliyun standards.",
    )
}

fn illegal_timestamp() -> ApiError {
    ApiError::new(
        400,
        "IllegalTimestamp",
        "The input parameter \"Timestamp\" that is mandatory for processing this request is not \
         supplied.",
    )
}

fn signature_mismatch(string_to_sign: &str) -> ApiError {
    ApiError::new(
        400,
        "SignatureDoesNotMatch",
        &format!(
            "Specified signature is not matched with our calculation. server string to sign \
             is:{string_to_sign}"
        ),
    )
}

/// The nonces seen recently, forgotten in arrival order once older than [`NONCE_MEMORY`].
#[derive(Debug, Default)]
struct NonceBook {
    seen: HashSet<String>,
    arrivals: VecDeque<(Instant, String)>,
}

impl NonceBook {
    /// Records a nonce; returns false if it was seen before.
    fn remember(&mut self, nonce: &str, now: Instant) -> bool {
        while let Some((arrived, _)) = self.arrivals.front() {
            if now.duration_since(*arrived) < NONCE_MEMORY {
                break;
            }
            if let Some((_, old)) = self.arrivals.pop_front() {
                self.seen.remove(&old);
            }
        }
        if !self.seen.insert(nonce.to_owned()) {
            return false;
        }
        self.arrivals.push_back((now, nonce.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretString;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn common(nonce: &str, timestamp: &str) -> Vec<(String, String)> {
        pairs(&[
            ("Format", "JSON"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("Version", "2014-05-26"),
            ("SignatureNonce", nonce),
            ("Timestamp", timestamp),
        ])
    }

    #[test]
    fn v2_matches_the_documented_example() {
        let parameters = pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeDedicatedHosts"),
            ("Format", "JSON"),
            ("RegionId", "cn-beijing"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2023-03-13T08:34:30Z"),
            ("Version", "2014-05-26"),
        ]);
        let string_to_sign = v2_string_to_sign("GET", &parameters);
        assert_eq!(
            string_to_sign,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            v2_signature("testsecret", &string_to_sign),
            "9NaGiOspFP5UPcwX8Iwt2YJXXuk="
        );
    }

    #[test]
    fn v2_matches_the_classic_describe_regions_vector_in_both_spellings_of_the_time() {
        let sign = |time_name: &str| {
            let parameters = pairs(&[
                ("AccessKeyId", "testid"),
                ("Action", "DescribeRegions"),
                ("Format", "XML"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
                ("SignatureVersion", "1.0"),
                (time_name, "2016-02-23T12:46:24Z"),
                ("Version", "2014-05-26"),
            ]);
            v2_signature("testsecret", &v2_string_to_sign("GET", &parameters))
        };
        assert_eq!(sign("Timestamp"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
        assert_eq!(sign("TimeStamp"), "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
    }

    #[test]
    fn v2_matches_the_describe_instances_vector_with_a_json_array() {
        let mut parameters = common(
            "0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "2024-05-01T12:00:00Z",
        );
        parameters.extend(pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeInstances"),
            ("RegionId", "cn-hangzhou"),
            (
                "InstanceIds",
                r#"["i-bp1aaaaaaaaaaaaaaaa1","i-bp1bbbbbbbbbbbbbbbb2"]"#,
            ),
            ("PageSize", "100"),
            ("PageNumber", "1"),
        ]));
        let string_to_sign = v2_string_to_sign("POST", &parameters);
        assert_eq!(
            string_to_sign,
            "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeInstances%26Format%3DJSON%26\
             InstanceIds%3D%255B%2522i-bp1aaaaaaaaaaaaaaaa1%2522%252C%2522i-bp1bbbbbbbbbbbbbbbb2\
             %2522%255D%26PageNumber%3D1%26PageSize%3D100%26RegionId%3Dcn-hangzhou%26\
             SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b\
             %26SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A00Z%26Version%3D\
             2014-05-26"
        );
        assert_eq!(
            v2_signature("testsecret", &string_to_sign),
            "1wIjc9mGgxlxZ6Vb+A06tHtBGNA="
        );
    }

    #[test]
    fn v2_matches_the_vector_with_every_special_character_in_the_password() {
        let mut parameters = common(
            "6c1b9f0e-2d3a-4e5f-8a7b-9c0d1e2f3a4b",
            "2024-05-01T12:00:01Z",
        );
        parameters.extend(pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "ModifyInstanceAttribute"),
            ("RegionId", "cn-hangzhou"),
            ("InstanceId", "i-bp1aaaaaaaaaaaaaaaa1"),
            ("Password", "Ab1!@#$%^&*()_+-=[]{};:',.<>/?~ \u{e9}"),
        ]));
        assert!(canonical_query(&parameters).contains(
            "&Password=Ab1%21%40%23%24%25%5E%26%2A%28%29_%2B-%3D%5B%5D%7B%7D%3B%3A%27%2C.%3C%3E%2F%3F~%20%C3%A9&"
        ));
        let string_to_sign = v2_string_to_sign("POST", &parameters);
        assert_eq!(
            string_to_sign,
            "POST&%2F&AccessKeyId%3Dtestid%26Action%3DModifyInstanceAttribute%26Format%3DJSON%26\
             InstanceId%3Di-bp1aaaaaaaaaaaaaaaa1%26Password%3DAb1%2521%2540%2523%2524%2525%255E\
             %2526%252A%2528%2529_%252B-%253D%255B%255D%257B%257D%253B%253A%2527%252C.%253C%253E\
             %252F%253F~%2520%25C3%25A9%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26\
             SignatureNonce%3D6c1b9f0e-2d3a-4e5f-8a7b-9c0d1e2f3a4b%26SignatureVersion%3D1.0%26\
             Timestamp%3D2024-05-01T12%253A00%253A01Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            v2_signature("s3cr3t/Key+With=Chars", &string_to_sign),
            "djwGvRy/hMTK2Z83ywSdSyuykL8="
        );
    }

    #[test]
    fn v2_matches_the_sts_vector() {
        let mut parameters = common("a1b2c3d4e5f60718293a4b5c6d7e8f90", "2024-05-01T12:00:02Z");
        parameters.extend(pairs(&[
            ("AccessKeyId", "STS.NTestTemporaryKeyId"),
            ("Action", "RebootInstance"),
            ("RegionId", "cn-shanghai"),
            ("InstanceId", "i-uf6ccccccccccccccccc"),
            ("ForceStop", "false"),
            (
                "SecurityToken",
                "CAIS8gF1q6Ft5B2yfSjIr5bnLtbOjKtM+/aeaEXYhXI/Zrl8ubXOjzz2IHhMeXRtA+0Xs/o=",
            ),
        ]));
        let string_to_sign = v2_string_to_sign("GET", &parameters);
        assert_eq!(
            string_to_sign,
            "GET&%2F&AccessKeyId%3DSTS.NTestTemporaryKeyId%26Action%3DRebootInstance%26ForceStop\
             %3Dfalse%26Format%3DJSON%26InstanceId%3Di-uf6ccccccccccccccccc%26RegionId%3D\
             cn-shanghai%26SecurityToken%3DCAIS8gF1q6Ft5B2yfSjIr5bnLtbOjKtM%252B%252FaeaEXYhXI\
             %252FZrl8ubXOjzz2IHhMeXRtA%252B0Xs%252Fo%253D%26SignatureMethod%3DHMAC-SHA1%26\
             SignatureNonce%3Da1b2c3d4e5f60718293a4b5c6d7e8f90%26SignatureVersion%3D1.0%26\
             Timestamp%3D2024-05-01T12%253A00%253A02Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            v2_signature("stsTestSecret", &string_to_sign),
            "ld1f0RTrGEoP2hZrxNPW0BtjfZY="
        );
    }

    #[test]
    fn v2_matches_the_core_sdk_vector_with_form_body_and_empty_signature_type() {
        let mut parameters = common("d41d8cd98f00b204e9800998ecf8427e", "2024-05-01T12:00:03Z");
        parameters.extend(pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "StartInstances"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureType", ""),
            ("InstanceId.1", "i-bp1aaaaaaaaaaaaaaaa1"),
            ("InstanceId.2", "i-bp1bbbbbbbbbbbbbbbb2"),
            ("BatchOptimization", "SuccessFirst"),
        ]));
        let string_to_sign = v2_string_to_sign("POST", &parameters);
        assert_eq!(
            string_to_sign,
            "POST&%2F&AccessKeyId%3Dtestid%26Action%3DStartInstances%26BatchOptimization%3D\
             SuccessFirst%26Format%3DJSON%26InstanceId.1%3Di-bp1aaaaaaaaaaaaaaaa1%26InstanceId.2\
             %3Di-bp1bbbbbbbbbbbbbbbb2%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26\
             SignatureNonce%3Dd41d8cd98f00b204e9800998ecf8427e%26SignatureType%3D%26\
             SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A03Z%26Version%3D\
             2014-05-26"
        );
        assert_eq!(
            v2_signature("testsecret", &string_to_sign),
            "0vwG7Q8/crEEoTqi0tFht8U7fnI="
        );
    }

    fn v3_headers(host: &str, action: &str, date: &str, nonce: &str) -> Vec<(String, String)> {
        pairs(&[
            ("host", host),
            ("x-acs-action", action),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", date),
            ("x-acs-signature-nonce", nonce),
            ("x-acs-content-sha256", &sha256_hex(b"")),
        ])
    }

    fn names(headers: &[(String, String)]) -> Vec<String> {
        headers.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The hashed canonical request and the signature of the V3 documentation's example.
    fn doc_3(date: &str, nonce: &str) -> (String, String) {
        let headers = v3_headers("ecs.cn-shanghai.aliyuncs.com", "RunInstances", date, nonce);
        let query = pairs(&[
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ]);
        let signed_headers = names(&headers);
        let canonical = v3_canonical_request(&V3Request {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            signed_headers: &signed_headers,
            hashed_payload: &sha256_hex(b""),
        });
        (
            sha256_hex(canonical.as_bytes()),
            v3_signature("YourAccessKeySecret", &v3_string_to_sign(&canonical)),
        )
    }

    #[test]
    fn v3_matches_the_documented_example() {
        let (hashed, signature) = doc_3("2023-10-26T10:22:32Z", "3156853299f313e23d1673dc12e1703d");
        assert_eq!(
            hashed,
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn v3_matches_the_documented_example_with_the_header_table_date_and_nonce() {
        let (_, signature) = doc_3("2023-10-26T09:01:01Z", "d410180a5abf7fe235dd9b74aca91fc0");
        assert_eq!(
            signature,
            "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
        );
    }

    #[test]
    fn v3_matches_the_vector_with_every_special_character_in_the_password() {
        let headers = v3_headers(
            "ecs.cn-hangzhou.aliyuncs.com",
            "ModifyInstanceAttribute",
            "2024-05-01T12:00:04Z",
            "5f2b6c0d9e8a7b6c5d4e3f2a1b0c9d8e",
        );
        let query = pairs(&[
            ("InstanceId", "i-bp1aaaaaaaaaaaaaaaa1"),
            ("Password", "Ab1!@#$%^&*()_+-=[]{};:',.<>/?~ \u{e9}"),
        ]);
        let signed_headers = names(&headers);
        let canonical = v3_canonical_request(&V3Request {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            signed_headers: &signed_headers,
            hashed_payload: &sha256_hex(b""),
        });
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "616ae901c822ca69213f963f4e07cee5aafef7e1912410edddab98a09775c9d7"
        );
        assert_eq!(
            v3_signature("testsecret", &v3_string_to_sign(&canonical)),
            "a584beee40aca54103bcddd58ee57bc25d5f91d232985268b5e6d3e2027d2407"
        );
    }

    fn authenticator() -> Authenticator {
        Authenticator::new(Credentials {
            access_key_id: "testid".to_owned(),
            access_key_secret: SecretString::from("testsecret"),
            security_token: None,
        })
    }

    fn signed_v2_request(
        nonce: &str,
        timestamp: &str,
        secret: &str,
        security_token: Option<&str>,
    ) -> ApiRequest {
        let mut parameters = common(nonce, timestamp);
        parameters.extend(pairs(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeInstances"),
            ("RegionId", "cn-hangzhou"),
        ]));
        if let Some(token) = security_token {
            parameters.push(("SecurityToken".to_owned(), token.to_owned()));
        }
        let signature = v2_signature(secret, &v2_string_to_sign("GET", &parameters));
        parameters.push(("Signature".to_owned(), signature));
        let query = parameters
            .iter()
            .map(|(name, value)| format!("{name}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        ApiRequest::new("GET", "/", Some(&query), Vec::new(), Vec::new()).unwrap()
    }

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn v2_request_is_accepted_once_and_its_nonce_refused_after() {
        let authenticator = authenticator();
        let request = signed_v2_request("n-1", "2024-05-01T12:00:00Z", "testsecret", None);
        let now = at("2024-05-01T12:05:00Z");
        assert_eq!(authenticator.authenticate(&request, now), Ok(()));
        let error = authenticator.authenticate(&request, now).unwrap_err();
        assert_eq!(error.code, "SignatureNonceUsed");
    }

    #[test]
    fn v2_request_with_wrong_secret_gets_the_server_string_to_sign() {
        let authenticator = authenticator();
        let request = signed_v2_request("n-2", "2024-05-01T12:00:00Z", "wrong", None);
        let error = authenticator
            .authenticate(&request, at("2024-05-01T12:00:00Z"))
            .unwrap_err();
        assert_eq!(error.code, "SignatureDoesNotMatch");
        assert!(error.message.ends_with("server string to sign is:GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeInstances%26Format%3DJSON%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dn-2%26SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A00Z%26Version%3D2014-05-26"), "{}", error.message);
        let retry = signed_v2_request("n-2", "2024-05-01T12:00:00Z", "testsecret", None);
        assert_eq!(
            authenticator.authenticate(&retry, at("2024-05-01T12:00:00Z")),
            Ok(())
        );
    }

    #[test]
    fn v2_request_outside_the_window_or_badly_dated_is_refused() {
        let authenticator = authenticator();
        let stale = signed_v2_request("n-3", "2024-05-01T12:00:00Z", "testsecret", None);
        let error = authenticator
            .authenticate(&stale, at("2024-05-01T12:15:01Z"))
            .unwrap_err();
        assert_eq!(error.code, "InvalidTimeStamp.Expired");
        let malformed = signed_v2_request("n-4", "2024-05-01 12:00:00", "testsecret", None);
        let error = authenticator
            .authenticate(&malformed, at("2024-05-01T12:00:00Z"))
            .unwrap_err();
        assert_eq!(error.code, "InvalidTimeStamp.Format");
    }

    #[test]
    fn sts_credentials_require_their_security_token() {
        let authenticator = Authenticator::new(Credentials {
            access_key_id: "testid".to_owned(),
            access_key_secret: SecretString::from("testsecret"),
            security_token: Some(SecretString::from("token-1")),
        });
        let now = at("2024-05-01T12:00:00Z");
        let without = signed_v2_request("n-6", "2024-05-01T12:00:00Z", "testsecret", None);
        let error = authenticator.authenticate(&without, now).unwrap_err();
        assert_eq!(error.code, "InvalidSecurityToken.MismatchWithAccessKey");
        let with = signed_v2_request("n-7", "2024-05-01T12:00:00Z", "testsecret", Some("token-1"));
        assert_eq!(authenticator.authenticate(&with, now), Ok(()));
    }

    fn form_header() -> (String, String) {
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )
    }

    /// The core SDK's StartInstances request of vector new-core, exactly as it went on the
    /// wire: common parameters and the signature in the URL, instance ids in the form body.
    fn core_sdk_start_instances(body: &[u8]) -> ApiRequest {
        let query = "Action=StartInstances&Version=2014-05-26&RegionId=cn-hangzhou&\
                     Timestamp=2024-05-01T12%3A00%3A03Z&SignatureMethod=HMAC-SHA1&SignatureType=&\
                     SignatureVersion=1.0&SignatureNonce=d41d8cd98f00b204e9800998ecf8427e&\
                     AccessKeyId=testid&Format=JSON&Signature=0vwG7Q8%2FcrEEoTqi0tFht8U7fnI%3D";
        ApiRequest::new("POST", "/", Some(query), vec![form_header()], body.to_vec()).unwrap()
    }

    #[test]
    fn the_core_sdk_url_and_form_body_of_vector_new_core_are_accepted() {
        let request = core_sdk_start_instances(
            b"InstanceId.1=i-bp1aaaaaaaaaaaaaaaa1&InstanceId.2=i-bp1bbbbbbbbbbbbbbbb2&\
              BatchOptimization=SuccessFirst",
        );
        assert_eq!(
            authenticator().authenticate(&request, at("2024-05-01T12:00:03Z")),
            Ok(())
        );
    }

    #[test]
    fn form_body_parameters_are_signed_so_a_changed_body_is_refused() {
        let request = core_sdk_start_instances(
            b"InstanceId.1=i-bp1aaaaaaaaaaaaaaaa1&InstanceId.2=i-bp1cccccccccccccccc3&\
              BatchOptimization=SuccessFirst",
        );
        let error = authenticator()
            .authenticate(&request, at("2024-05-01T12:00:03Z"))
            .unwrap_err();
        assert_eq!(error.code, "SignatureDoesNotMatch");
        assert!(
            error.message.ends_with(
                "server string to sign is:POST&%2F&AccessKeyId%3Dtestid%26Action%3DStartInstances\
                 %26BatchOptimization%3DSuccessFirst%26Format%3DJSON%26InstanceId.1%3D\
                 i-bp1aaaaaaaaaaaaaaaa1%26InstanceId.2%3Di-bp1cccccccccccccccc3%26RegionId%3D\
                 cn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D\
                 d41d8cd98f00b204e9800998ecf8427e%26SignatureType%3D%26SignatureVersion%3D1.0%26\
                 Timestamp%3D2024-05-01T12%253A00%253A03Z%26Version%3D2014-05-26"
            ),
            "{}",
            error.message
        );
    }

    /// Vector new-4 as a request: the password in the query with `+` for its space, as the
    /// SDKs send it, an unsigned header beside the signed ones, and the published signature.
    fn modify_request_of_vector_new_4(signature: &str) -> ApiRequest {
        let mut headers = v3_headers(
            "ecs.cn-hangzhou.aliyuncs.com",
            "ModifyInstanceAttribute",
            "2024-05-01T12:00:04Z",
            "5f2b6c0d9e8a7b6c5d4e3f2a1b0c9d8e",
        );
        headers.push(("user-agent".to_owned(), "not signed".to_owned()));
        headers.push((
            "authorization".to_owned(),
            format!(
                "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;\
                 x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
                 Signature={signature}"
            ),
        ));
        let query = "InstanceId=i-bp1aaaaaaaaaaaaaaaa1&Password=Ab1%21%40%23%24%25%5E%26%2A%28%29\
                     _%2B-%3D%5B%5D%7B%7D%3B%3A%27%2C.%3C%3E%2F%3F~+%C3%A9";
        ApiRequest::new("POST", "/", Some(query), headers, Vec::new()).unwrap()
    }

    #[test]
    fn the_request_of_vector_new_4_is_accepted_under_v3() {
        let request = modify_request_of_vector_new_4(
            "a584beee40aca54103bcddd58ee57bc25d5f91d232985268b5e6d3e2027d2407",
        );
        assert_eq!(
            authenticator().authenticate(&request, at("2024-05-01T12:00:04Z")),
            Ok(())
        );
    }

    #[test]
    fn a_wrong_v3_signature_gets_the_server_string_to_sign() {
        let request = modify_request_of_vector_new_4(&"0".repeat(64));
        let error = authenticator()
            .authenticate(&request, at("2024-05-01T12:00:04Z"))
            .unwrap_err();
        assert_eq!(error.code, "SignatureDoesNotMatch");
        assert!(
            error.message.ends_with(
                "server string to sign is:ACS3-HMAC-SHA256\n\
                 616ae901c822ca69213f963f4e07cee5aafef7e1912410edddab98a09775c9d7"
            ),
            "{}",
            error.message
        );
    }

    #[test]
    fn unknown_access_key_is_not_found_with_http_404() {
        let mut parameters = common("n-8", "2024-05-01T12:00:00Z");
        parameters.extend(pairs(&[
            ("AccessKeyId", "nobody"),
            ("Action", "DescribeInstances"),
        ]));
        parameters.push(("Signature".to_owned(), "AAAA".to_owned()));
        let query = parameters
            .iter()
            .map(|(name, value)| format!("{name}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let request = ApiRequest::new("GET", "/", Some(&query), Vec::new(), Vec::new()).unwrap();
        let error = authenticator()
            .authenticate(&request, at("2024-05-01T12:00:00Z"))
            .unwrap_err();
        assert_eq!(
            (error.status, error.code.as_str()),
            (404, "InvalidAccessKeyId.NotFound")
        );
    }

    #[test]
    fn v3_request_with_unsigned_acs_header_is_incomplete() {
        let authenticator = authenticator();
        let mut headers = v3_headers("h", "DescribeInstances", "2024-05-01T12:00:00Z", "n-5");
        headers.push((
            "authorization".to_owned(),
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action,Signature=00"
                .to_owned(),
        ));
        let request = ApiRequest::new("POST", "/", None, headers, Vec::new()).unwrap();
        let error = authenticator
            .authenticate(&request, at("2024-05-01T12:00:00Z"))
            .unwrap_err();
        assert_eq!(error.code, "IncompleteSignature");
    }
}
