//! Request signatures: RPC signature V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256), as
//! reference/ecs-api.md §1 and §2 describe them.
//!
//! These functions are pure: they take the exact parameters, headers and secret and return
//! the text that was signed and the signature. Choosing a nonce and a timestamp, and deciding
//! where each parameter travels, is the client's job. The emulator verifies signatures with its
//! own code; both are checked against the published vectors, so one mistake cannot hide in both.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The value of `SignatureMethod` for V2.
pub const V2_METHOD: &str = "HMAC-SHA1";
/// The value of `SignatureVersion` for V2.
pub const V2_VERSION: &str = "1.0";
/// The algorithm name at the head of a V3 `Authorization` header and string to sign.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Percent-encodes text the way both signature versions require: `A-Z a-z 0-9 - _ . ~` stay,
/// every other UTF-8 byte becomes `%XY` in upper-case hex (so space is `%20`, never `+`).
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Sorts parameters by name (byte-wise) and joins them as encoded `name=value` pairs with `&`.
/// An empty value is kept as `name=`.
pub fn canonical_query(parameters: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = parameters.iter().collect();
    sorted.sort_by(|left, right| left.0.as_bytes().cmp(right.0.as_bytes()));
    sorted
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The V2 string to sign: `METHOD&%2F&` followed by the encoded canonical query.
/// `parameters` are all of them (query and body) except `Signature`.
pub fn v2_string_to_sign(method: &str, parameters: &[(&str, &str)]) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(parameters))
    )
}

/// The V2 signature: Base64 of HMAC-SHA1 keyed with the secret followed by `&`.
pub fn v2_signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = format!("{access_key_secret}&");
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Lower-case hex SHA-256, as V3 uses for payloads and canonical requests.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// What V3 signs for one request. Header names must be lower case; they are sorted here.
pub struct V3Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The query parameters (not the body's).
    pub query: &'a [(&'a str, &'a str)],
    /// The headers to sign, lower-case names.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lower-case hex SHA-256 of the body, the same value as `x-acs-content-sha256`.
    pub payload_hash: &'a str,
}

impl V3Request<'_> {
    /// The names of the signed headers, sorted and joined with `;`.
    pub fn signed_headers(&self) -> String {
        let mut names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.join(";")
    }

    /// The canonical request: method, URI `/`, query, headers, signed header names, payload hash.
    pub fn canonical_request(&self) -> String {
        let mut headers: Vec<&(&str, &str)> = self.headers.iter().collect();
        headers.sort_by(|left, right| left.0.cmp(right.0));
        let canonical_headers: String = headers
            .iter()
            .map(|(name, value)| format!("{name}:{}\n", value.trim()))
            .collect();
        format!(
            "{}\n/\n{}\n{}\n{}\n{}",
            self.method.to_ascii_uppercase(),
            canonical_query(self.query),
            canonical_headers,
            self.signed_headers(),
            self.payload_hash
        )
    }

    /// The V3 signature: hex HMAC-SHA256 of `ACS3-HMAC-SHA256\n<hex sha256 of the canonical
    /// request>`, keyed with the raw secret (no `&`).
    pub fn signature(&self, access_key_secret: &str) -> String {
        let string_to_sign = format!(
            "{V3_ALGORITHM}\n{}",
            sha256_hex(self.canonical_request().as_bytes())
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(access_key_secret.as_bytes())
            .expect("HMAC accepts any key");
        mac.update(string_to_sign.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The `Authorization` header value.
    pub fn authorization(&self, access_key_id: &str, access_key_secret: &str) -> String {
        format!(
            "{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
            self.signed_headers(),
            self.signature(access_key_secret)
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: [(&str, &str); 4] = [
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("Version", "2014-05-26"),
    ];

    fn with_common<'a>(parameters: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        COMMON.iter().chain(parameters).copied().collect()
    }

    /// The 33-character password of vector new-2 and new-4.
    const SPECIAL_PASSWORD: &str = "Ab1!@#$%^&*()_+-=[]{};:',.<>/?~ \u{e9}";

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            percent_encode("a b*c~d/e+f=é"),
            "a%20b%2Ac~d%2Fe%2Bf%3D%C3%A9"
        );
        assert_eq!(
            percent_encode(SPECIAL_PASSWORD),
            "Ab1%21%40%23%24%25%5E%26%2A%28%29_%2B-%3D%5B%5D%7B%7D%3B%3A%27%2C.%3C%3E%2F%3F~%20%C3%A9"
        );
    }

    #[test]
    fn v2_matches_documented_example_doc_1() {
        let parameters = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeDedicatedHosts"),
            ("Format", "JSON"),
            ("RegionId", "cn-beijing"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2023-03-13T08:34:30Z"),
            ("Version", "2014-05-26"),
        ];
        assert_eq!(
            canonical_query(&parameters),
            "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing&\
             SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&\
             SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26"
        );
        let string_to_sign = v2_string_to_sign("GET", &parameters);
        assert_eq!(
            string_to_sign,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26\
             RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D\
             edb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D\
             2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            v2_signature("testsecret", &string_to_sign),
            "9NaGiOspFP5UPcwX8Iwt2YJXXuk="
        );
    }

    #[test]
    fn v2_matches_classic_example_doc_2_in_both_spellings_of_the_time() {
        let parameters = |time_name| {
            vec![
                ("AccessKeyId", "testid"),
                ("Action", "DescribeRegions"),
                ("Format", "XML"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
                ("SignatureVersion", "1.0"),
                (time_name, "2016-02-23T12:46:24Z"),
                ("Version", "2014-05-26"),
            ]
        };
        let sign = |time_name| {
            v2_signature(
                "testsecret",
                &v2_string_to_sign("GET", &parameters(time_name)),
            )
        };
        assert_eq!(sign("Timestamp"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
        assert_eq!(sign("TimeStamp"), "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
    }

    #[test]
    fn v2_matches_vector_new_1_with_a_json_array_of_ids() {
        let parameters = with_common(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeInstances"),
            ("RegionId", "cn-hangzhou"),
            (
                "InstanceIds",
                r#"["i-bp1aaaaaaaaaaaaaaaa1","i-bp1bbbbbbbbbbbbbbbb2"]"#,
            ),
            ("PageSize", "100"),
            ("PageNumber", "1"),
            ("SignatureNonce", "0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b"),
            ("Timestamp", "2024-05-01T12:00:00Z"),
        ]);
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
    fn v2_matches_vector_new_2_with_every_special_character_in_the_password() {
        let parameters = with_common(&[
            ("AccessKeyId", "testid"),
            ("Action", "ModifyInstanceAttribute"),
            ("RegionId", "cn-hangzhou"),
            ("InstanceId", "i-bp1aaaaaaaaaaaaaaaa1"),
            ("Password", SPECIAL_PASSWORD),
            ("SignatureNonce", "6c1b9f0e-2d3a-4e5f-8a7b-9c0d1e2f3a4b"),
            ("Timestamp", "2024-05-01T12:00:01Z"),
        ]);
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
    fn v2_matches_vector_new_3_with_a_security_token() {
        let parameters = with_common(&[
            ("AccessKeyId", "STS.NTestTemporaryKeyId"),
            ("Action", "RebootInstance"),
            ("RegionId", "cn-shanghai"),
            ("InstanceId", "i-uf6ccccccccccccccccc"),
            ("ForceStop", "false"),
            ("SignatureNonce", "a1b2c3d4e5f60718293a4b5c6d7e8f90"),
            ("Timestamp", "2024-05-01T12:00:02Z"),
            (
                "SecurityToken",
                "CAIS8gF1q6Ft5B2yfSjIr5bnLtbOjKtM+/aeaEXYhXI/Zrl8ubXOjzz2IHhMeXRtA+0Xs/o=",
            ),
        ]);
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
    fn v2_matches_vector_new_core_with_body_parameters_and_an_empty_value() {
        let parameters = with_common(&[
            ("AccessKeyId", "testid"),
            ("Action", "StartInstances"),
            ("RegionId", "cn-hangzhou"),
            ("InstanceId.1", "i-bp1aaaaaaaaaaaaaaaa1"),
            ("InstanceId.2", "i-bp1bbbbbbbbbbbbbbbb2"),
            ("BatchOptimization", "SuccessFirst"),
            ("SignatureNonce", "d41d8cd98f00b204e9800998ecf8427e"),
            ("SignatureType", ""),
            ("Timestamp", "2024-05-01T12:00:03Z"),
        ]);
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
        let signature = v2_signature("testsecret", &string_to_sign);
        assert_eq!(signature, "0vwG7Q8/crEEoTqi0tFht8U7fnI=");
        assert_eq!(
            percent_encode(&signature),
            "0vwG7Q8%2FcrEEoTqi0tFht8U7fnI%3D"
        );
    }

    const EMPTY_BODY_HASH: &str =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn doc_3(date: &str, nonce: &str) -> (String, String) {
        let query = [
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ];
        let headers = [
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", date),
            ("x-acs-signature-nonce", nonce),
            ("x-acs-content-sha256", EMPTY_BODY_HASH),
        ];
        let request = V3Request {
            method: "POST",
            query: &query,
            headers: &headers,
            payload_hash: EMPTY_BODY_HASH,
        };
        (
            sha256_hex(request.canonical_request().as_bytes()),
            request.signature("YourAccessKeySecret"),
        )
    }

    #[test]
    fn empty_body_hash_is_the_documented_constant() {
        assert_eq!(sha256_hex(b""), EMPTY_BODY_HASH);
    }

    #[test]
    fn v3_matches_documented_example_doc_3() {
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
    fn v3_matches_doc_3_with_the_header_table_date_and_nonce() {
        let (_, signature) = doc_3("2023-10-26T09:01:01Z", "d410180a5abf7fe235dd9b74aca91fc0");
        assert_eq!(
            signature,
            "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
        );
    }

    #[test]
    fn v3_matches_vector_new_4_with_every_special_character_in_the_password() {
        let query = [
            ("InstanceId", "i-bp1aaaaaaaaaaaaaaaa1"),
            ("Password", SPECIAL_PASSWORD),
        ];
        let headers = [
            ("host", "ecs.cn-hangzhou.aliyuncs.com"),
            ("x-acs-action", "ModifyInstanceAttribute"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2024-05-01T12:00:04Z"),
            ("x-acs-signature-nonce", "5f2b6c0d9e8a7b6c5d4e3f2a1b0c9d8e"),
            ("x-acs-content-sha256", EMPTY_BODY_HASH),
        ];
        let request = V3Request {
            method: "POST",
            query: &query,
            headers: &headers,
            payload_hash: EMPTY_BODY_HASH,
        };
        assert_eq!(
            canonical_query(&query),
            "InstanceId=i-bp1aaaaaaaaaaaaaaaa1&Password=Ab1%21%40%23%24%25%5E%26%2A%28%29_%2B-%3D\
             %5B%5D%7B%7D%3B%3A%27%2C.%3C%3E%2F%3F~%20%C3%A9"
        );
        assert_eq!(
            sha256_hex(request.canonical_request().as_bytes()),
            "616ae901c822ca69213f963f4e07cee5aafef7e1912410edddab98a09775c9d7"
        );
        assert_eq!(
            request.signature("testsecret"),
            "a584beee40aca54103bcddd58ee57bc25d5f91d232985268b5e6d3e2027d2407"
        );
        assert_eq!(
            request.authorization("testid", "testsecret"),
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;\
             x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=a584beee40aca54103bcddd58ee57bc25d5f91d232985268b5e6d3e2027d2407"
        );
    }
}
