//! The emulator's API over HTTP on loopback: signed V2 and V3 requests, every operation with
//! its preconditions, paging, the inspection endpoints and each fault rule.
//!
//! Requests are signed here with the emulator's signing functions, which the unit tests pin to
//! the published vectors; the Python SDK tests (emulator_python.rs) check the same behaviour
//! with independent signers.

use std::time::Duration;

use passform::emulator::auth::{
    V3Request, percent_encode, sha256_hex, v2_signature, v2_string_to_sign, v3_canonical_request,
    v3_signature, v3_string_to_sign,
};
use passform::emulator::{Emulator, Fleet, RunningEmulator};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

const FLEET: &str = r#"
time_scale = 0.01
[timing]
start = 30
stop = 20
reboot = 40
[[instance]]
id = "i-running"
region = "cn-hangzhou"
status = "Running"
name = "web-1"
password = "Initial#Pass1"
[[instance]]
id = "i-stopped"
region = "cn-hangzhou"
status = "Stopped"
os_type = "windows"
name = "win-1"
[[instance]]
id = "i-locked"
region = "cn-hangzhou"
status = "Running"
lock_reasons = ["security"]
[[instance]]
id = "i-shanghai"
region = "cn-shanghai"
status = "Running"
key_pair_name = "deploy"
"#;

struct Api {
    emulator: RunningEmulator,
    http: reqwest::Client,
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap()
}

fn nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Api {
    async fn start(fleet: &str) -> Api {
        let fleet = Fleet::parse(fleet).unwrap();
        let emulator = Emulator::start(fleet, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        Api {
            emulator,
            http: reqwest::Client::new(),
        }
    }

    /// A POST signed with V2, parameters in the query, the way the SDKs send it.
    async fn call(&self, action: &str, parameters: &[(&str, &str)]) -> (u16, Value) {
        self.call_signed(
            action,
            parameters,
            "testsecret",
            &timestamp(OffsetDateTime::now_utc()),
            &nonce(),
        )
        .await
    }

    async fn call_signed(
        &self,
        action: &str,
        parameters: &[(&str, &str)],
        secret: &str,
        timestamp: &str,
        nonce: &str,
    ) -> (u16, Value) {
        self.try_call_signed(action, parameters, secret, timestamp, nonce)
            .await
            .unwrap()
    }

    async fn try_call_signed(
        &self,
        action: &str,
        parameters: &[(&str, &str)],
        secret: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut all: Vec<(String, String)> = [
            ("Action", action),
            ("Version", "2014-05-26"),
            ("Format", "JSON"),
            ("AccessKeyId", "testid"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce),
            ("Timestamp", timestamp),
        ]
        .iter()
        .chain(parameters)
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
        let signature = v2_signature(secret, &v2_string_to_sign("POST", &all));
        all.push(("Signature".to_owned(), signature));
        let query: Vec<String> = all
            .iter()
            .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
            .collect();
        let url = format!("{}/?{}", self.emulator.url(), query.join("&"));
        let response = self.http.post(url).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// A POST signed with V3, parameters in the query.
    async fn call_v3(
        &self,
        action: &str,
        parameters: &[(&str, &str)],
        secret: &str,
    ) -> (u16, Value) {
        self.call_v3_with_token(action, parameters, secret, None)
            .await
    }

    /// A POST signed with V3, with an STS token in `x-acs-security-token` when given.
    async fn call_v3_with_token(
        &self,
        action: &str,
        parameters: &[(&str, &str)],
        secret: &str,
        security_token: Option<&str>,
    ) -> (u16, Value) {
        let query: Vec<(String, String)> = parameters
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let host = self.emulator.address().to_string();
        let mut headers: Vec<(String, String)> = vec![
            ("host".to_owned(), host),
            ("x-acs-action".to_owned(), action.to_owned()),
            ("x-acs-content-sha256".to_owned(), sha256_hex(b"")),
            (
                "x-acs-date".to_owned(),
                timestamp(OffsetDateTime::now_utc()),
            ),
            ("x-acs-signature-nonce".to_owned(), nonce()),
            ("x-acs-version".to_owned(), "2014-05-26".to_owned()),
        ];
        if let Some(token) = security_token {
            headers.push(("x-acs-security-token".to_owned(), token.to_owned()));
        }
        let signed: Vec<String> = headers.iter().map(|(name, _)| name.clone()).collect();
        let canonical = v3_canonical_request(&V3Request {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            signed_headers: &signed,
            hashed_payload: &sha256_hex(b""),
        });
        let signature = v3_signature(secret, &v3_string_to_sign(&canonical));
        let encoded: Vec<String> = query
            .iter()
            .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
            .collect();
        let mut request = self
            .http
            .post(format!("{}/?{}", self.emulator.url(), encoded.join("&")));
        for (name, value) in &headers[1..] {
            request = request.header(name, value);
        }
        let authorization = format!(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={},Signature={signature}",
            signed.join(";")
        );
        let response = request
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.emulator.url());
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.emulator.url());
        let response = self.http.post(url).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn inspected(&self, id: &str) -> Value {
        let instances = self.get("/_emulator/instances").await;
        instances["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|instance| instance["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    async fn wait_for_status(&self, id: &str, status: &str) {
        for _ in 0..500 {
            if self.inspected(id).await["status"] == status {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{id} never became {status}");
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["Instances"]["Instance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|instance| instance["InstanceId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn describe_instances_answers_only_for_the_region_asked() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call("DescribeInstances", &[("RegionId", "cn-hangzhou")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["i-running", "i-stopped", "i-locked"]);
    assert_eq!(body["TotalCount"], 3);
    assert!(body["RequestId"].is_string());
    let first = &body["Instances"]["Instance"][0];
    assert_eq!(first["Status"], "Running");
    assert_eq!(first["OSType"], "linux");
    assert_eq!(first["InstanceName"], "web-1");
    let stopped = &body["Instances"]["Instance"][1];
    assert_eq!(stopped["OSType"], "windows");
    let locked = &body["Instances"]["Instance"][2];
    assert_eq!(
        locked["OperationLocks"]["LockReason"][0]["LockReason"],
        "security"
    );

    let (_, body) = api
        .call("DescribeInstances", &[("RegionId", "cn-shanghai")])
        .await;
    assert_eq!(ids(&body), ["i-shanghai"]);
    assert_eq!(body["Instances"]["Instance"][0]["KeyPairName"], "deploy");
}

#[tokio::test]
async fn password_reset_stays_pending_until_the_reboot_completes() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-running"), ("Password", "New#Pass1234 ")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidPassword.Malformed"))
    );

    let (status, body) = api
        .call(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-running"), ("Password", "New#Pass1234")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let inspected = api.inspected("i-running").await;
    assert_eq!(inspected["effective_password"], "Initial#Pass1");
    assert_eq!(inspected["pending_password"], "New#Pass1234");
    let start_time_before = inspected["start_time"].clone();

    let (status, body) = api
        .call("RebootInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = api
        .call(
            "DescribeInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceIds", r#"["i-running"]"#),
            ],
        )
        .await;
    assert_eq!(body["Instances"]["Instance"][0]["Status"], "Starting");
    let (status, body) = api
        .call(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-running"), ("Password", "Other#Pass123")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (403, Some("IncorrectInstanceStatus"))
    );

    api.wait_for_status("i-running", "Running").await;
    let inspected = api.inspected("i-running").await;
    assert_eq!(inspected["effective_password"], "New#Pass1234");
    assert_eq!(inspected["pending_password"], Value::Null);
    assert_ne!(inspected["start_time"], start_time_before);

    let history = api.get("/_emulator/history").await;
    let steps: Vec<(String, String, String)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["action"].as_str().unwrap().to_owned(),
                event["status_from"].as_str().unwrap().to_owned(),
                event["status_to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("ModifyInstanceAttribute", "Running", "Running"),
        ("RebootInstance", "Running", "Starting"),
        ("Transition", "Starting", "Running"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(steps, expected);
    let times: Vec<u64> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["at_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times[2] - times[1], 40_000, "{times:?}");
}

#[tokio::test]
async fn stopped_instance_gets_its_password_at_the_next_start() {
    let api = Api::start(FLEET).await;
    let (status, _) = api
        .call(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-stopped"), ("Password", "/Windows#Pass1")],
        )
        .await;
    assert_eq!(status, 400, "Windows passwords must not start with /");
    let (status, body) = api
        .call(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-stopped"), ("Password", "Windows#Pass1")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .call("RebootInstance", &[("InstanceId", "i-stopped")])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (403, Some("IncorrectInstanceStatus"))
    );

    let (status, body) = api
        .call("StartInstance", &[("InstanceId", "i-stopped")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.inspected("i-stopped").await["status"], "Starting");
    api.wait_for_status("i-stopped", "Running").await;
    assert_eq!(
        api.inspected("i-stopped").await["effective_password"],
        "Windows#Pass1"
    );
}

#[tokio::test]
async fn instance_of_another_region_or_unknown_is_not_found() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call(
            "RebootInstance",
            &[("InstanceId", "i-shanghai"), ("RegionId", "cn-hangzhou")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidInstanceId.NotFound"))
    );
    let (status, body) = api
        .call("StartInstance", &[("InstanceId", "i-nothing")])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidInstanceId.NotFound"))
    );
    for key in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(body[key].is_string(), "error body lacks {key}: {body}");
    }
}

#[tokio::test]
async fn bad_signature_is_refused_with_the_server_string_to_sign() {
    let api = Api::start(FLEET).await;
    let now = timestamp(OffsetDateTime::now_utc());
    let (status, body) = api
        .call_signed(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou")],
            "wrong",
            &now,
            &nonce(),
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("SignatureDoesNotMatch"))
    );
    let message = body["Message"].as_str().unwrap();
    assert!(
        message.contains(
            "server string to sign is:POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeInstances"
        ),
        "{message}"
    );
    let state = api.get("/_emulator/instances").await;
    assert!(!state.to_string().contains("Starting"));
}

#[tokio::test]
async fn replayed_nonce_and_stale_timestamp_are_refused() {
    let api = Api::start(FLEET).await;
    let now = timestamp(OffsetDateTime::now_utc());
    let parameters = [("RegionId", "cn-hangzhou")];
    let (status, _) = api
        .call_signed("DescribeInstances", &parameters, "testsecret", &now, "once")
        .await;
    assert_eq!(status, 200);
    let (status, body) = api
        .call_signed("DescribeInstances", &parameters, "testsecret", &now, "once")
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("SignatureNonceUsed"))
    );

    let stale = timestamp(OffsetDateTime::now_utc() - time::Duration::minutes(16));
    let (status, body) = api
        .call_signed(
            "DescribeInstances",
            &parameters,
            "testsecret",
            &stale,
            &nonce(),
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Expired"))
    );
    let (status, body) = api
        .call_signed(
            "DescribeInstances",
            &parameters,
            "testsecret",
            "yesterday",
            &nonce(),
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Format"))
    );
}

#[tokio::test]
async fn v3_signed_requests_are_served_and_a_wrong_v3_signature_refused() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call_v3(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("PageSize", "2")],
            "testsecret",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["i-running", "i-stopped"]);
    let (status, body) = api
        .call_v3(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-running"), ("Password", "V3#Password x")],
            "testsecret",
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidPassword.Malformed"))
    );

    let (status, body) = api
        .call_v3("DescribeInstances", &[("RegionId", "cn-hangzhou")], "wrong")
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("SignatureDoesNotMatch"))
    );
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("server string to sign is:ACS3-HMAC-SHA256\n")
    );
}

#[tokio::test]
async fn calls_endpoint_counts_every_call_per_operation() {
    let api = Api::start(FLEET).await;
    api.call("DescribeInstances", &[("RegionId", "cn-hangzhou")])
        .await;
    api.call("DescribeInstances", &[("RegionId", "cn-shanghai")])
        .await;
    api.call("RebootInstance", &[("InstanceId", "i-running")])
        .await;
    let calls = api.get("/_emulator/calls").await;
    assert_eq!(
        calls,
        json!({"calls": {"DescribeInstances": 2, "RebootInstance": 1}})
    );
}

#[tokio::test]
async fn error_rule_answers_its_error_for_the_next_calls_and_changes_nothing() {
    let api = Api::start(FLEET).await;
    let rule = json!({"action": "RebootInstance", "error": "ServiceUnavailable", "count": 2});
    assert_eq!(api.post("/_emulator/faults", rule).await.0, 200);
    for _ in 0..2 {
        let (status, body) = api
            .call("RebootInstance", &[("InstanceId", "i-running")])
            .await;
        assert_eq!(
            (status, body["Code"].as_str()),
            (503, Some("ServiceUnavailable"))
        );
        assert_eq!(api.inspected("i-running").await["status"], "Running");
    }
    let (status, _) = api
        .call("DescribeInstances", &[("RegionId", "cn-hangzhou")])
        .await;
    assert_eq!(status, 200, "other operations are not affected");
    let (status, _) = api
        .call("RebootInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.inspected("i-running").await["status"], "Starting");
}

#[tokio::test]
async fn drop_after_commit_makes_the_change_then_closes_without_answering() {
    let api = Api::start(FLEET).await;
    let rule = json!({"action": "ModifyInstanceAttribute", "drop_after_commit": true, "count": 1});
    assert_eq!(api.post("/_emulator/faults", rule).await.0, 200);
    let url = format!("{}/?Action=ModifyInstanceAttribute", api.emulator.url());
    let unsigned = api.http.post(url).send().await.unwrap();
    assert_eq!(
        unsigned.status().as_u16(),
        400,
        "unauthenticated calls are not dropped"
    );

    let now = timestamp(OffsetDateTime::now_utc());
    let outcome = api
        .try_call_signed(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-running"), ("Password", "Dropped#Pass1")],
            "testsecret",
            &now,
            &nonce(),
        )
        .await;
    let error = outcome.expect_err("the call must get no answer");
    assert!(error.is_request(), "{error}");
    assert_eq!(
        api.inspected("i-running").await["pending_password"],
        "Dropped#Pass1"
    );
}

#[tokio::test]
async fn out_of_band_changes_show_in_describe_and_deleted_instances_vanish() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .post(
            "/_emulator/instances/i-running",
            json!({"key_pair_name": "attached", "status": "Stopped"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = api
        .call(
            "DescribeInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceIds", r#"["i-running"]"#),
            ],
        )
        .await;
    let instance = &body["Instances"]["Instance"][0];
    assert_eq!(
        (
            instance["Status"].as_str(),
            instance["KeyPairName"].as_str()
        ),
        (Some("Stopped"), Some("attached"))
    );

    let (status, _) = api
        .post("/_emulator/instances/i-running", json!({"deleted": true}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = api
        .call("StartInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidInstanceId.NotFound"))
    );
    let (status, body) = api
        .post("/_emulator/instances/i-stopped", json!({"colour": "red"}))
        .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("colour"));
}

fn many_instances(count: usize) -> String {
    let mut fleet = String::from("time_scale = 0.01\n");
    for index in 0..count {
        let status = if index % 2 == 0 { "Running" } else { "Stopped" };
        fleet.push_str(&format!(
            "[[instance]]\nid = \"i-{index:03}\"\nregion = \"cn-hangzhou\"\nstatus = \"{status}\"\nname = \"node-{index}\"\n"
        ));
    }
    fleet
}

#[tokio::test]
async fn describe_instances_pages_by_number_and_by_token_with_total_count() {
    let api = Api::start(&many_instances(25)).await;
    let (_, first) = api
        .call(
            "DescribeInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("PageSize", "10"),
                ("PageNumber", "3"),
            ],
        )
        .await;
    assert_eq!(ids(&first), ["i-020", "i-021", "i-022", "i-023", "i-024"]);
    assert_eq!(
        (first["TotalCount"].as_u64(), first["PageNumber"].as_u64()),
        (Some(25), Some(3))
    );

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut parameters = vec![("RegionId", "cn-hangzhou"), ("MaxResults", "10")];
        if !token.is_empty() {
            parameters.push(("NextToken", token.as_str()));
        }
        let (status, page) = api.call("DescribeInstances", &parameters).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        token = page["NextToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.first().map(String::as_str), Some("i-000"));

    let (status, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("PageSize", "101")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidParameter"))
    );
    let (status, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("NextToken", "forged")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidParameter"))
    );
}

#[tokio::test]
async fn describe_instances_filters_by_status_name_and_id_list() {
    let api = Api::start(&many_instances(6)).await;
    let (_, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("Status", "Stopped")],
        )
        .await;
    assert_eq!(ids(&body), ["i-001", "i-003", "i-005"]);
    assert_eq!(body["TotalCount"], 3);
    let (_, body) = api
        .call(
            "DescribeInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceName", "node-*"),
                ("Status", "Running"),
                ("InstanceIds", r#"["i-000","i-001","i-002","i-unknown"]"#),
            ],
        )
        .await;
    assert_eq!(ids(&body), ["i-000", "i-002"]);
    let (_, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("InstanceIds", "[]")],
        )
        .await;
    assert_eq!(body["TotalCount"], 0);

    let (status, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("Status", "Sleeping")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidStatus.NotFound"))
    );
    let (status, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("InstanceIds", "i-000")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidParameter"))
    );
    let too_many: Vec<String> = (0..101).map(|index| format!("i-{index}")).collect();
    let too_many = serde_json::to_string(&too_many).unwrap();
    let (status, _) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("InstanceIds", &too_many)],
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = api.call("DescribeInstances", &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("MissingParameter"))
    );
    assert!(body["Message"].as_str().unwrap().contains("\"RegionId\""));
}

#[tokio::test]
async fn describe_instance_status_pages_up_to_50() {
    let api = Api::start(&many_instances(6)).await;
    let (status, body) = api
        .call(
            "DescribeInstanceStatus",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-001"),
                ("InstanceId.2", "i-000"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["InstanceStatuses"]["InstanceStatus"],
        json!([{"InstanceId": "i-000", "Status": "Running"}, {"InstanceId": "i-001", "Status": "Stopped"}])
    );
    let (_, body) = api
        .call(
            "DescribeInstanceStatus",
            &[
                ("RegionId", "cn-hangzhou"),
                ("PageSize", "4"),
                ("PageNumber", "2"),
            ],
        )
        .await;
    assert_eq!(body["TotalCount"], 6);
    assert_eq!(
        body["InstanceStatuses"]["InstanceStatus"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, body) = api
        .call(
            "DescribeInstanceStatus",
            &[("RegionId", "cn-hangzhou"), ("PageSize", "51")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidParameter"))
    );
}

#[tokio::test]
async fn batch_start_all_together_fails_whole_and_success_first_answers_each() {
    let api = Api::start(&many_instances(4)).await;
    let (status, body) = api
        .call(
            "StartInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-001"),
                ("InstanceId.2", "i-000"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (403, Some("IncorrectInstanceStatus"))
    );
    assert_eq!(
        api.inspected("i-001").await["status"],
        "Stopped",
        "AllTogether changes nothing"
    );

    let (status, body) = api
        .call(
            "StartInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-001"),
                ("InstanceId.2", "i-000"),
                ("InstanceId.3", "i-gone"),
                ("BatchOptimization", "SuccessFirst"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let responses = &body["InstanceResponses"]["InstanceResponse"];
    assert_eq!(
        responses[0],
        json!({"InstanceId": "i-001", "Code": "200", "Message": "success", "PreviousStatus": "Stopped", "CurrentStatus": "Starting"})
    );
    assert_eq!(responses[1]["Code"], "IncorrectInstanceStatus");
    assert_eq!(responses[1]["CurrentStatus"], "Running");
    assert_eq!(responses[2]["Code"], "InvalidInstanceId.NotFound");

    let (status, body) = api
        .call(
            "RebootInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-000"),
                ("InstanceId.2", "i-002"),
                ("DryRun", "True"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["InstanceResponses"]["InstanceResponse"][1]["Code"],
        "DRYRUN.SUCCESS"
    );
    assert_eq!(
        api.inspected("i-002").await["status"],
        "Running",
        "a dry run changes nothing"
    );
    let (status, body) = api
        .call(
            "RebootInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-000"),
                ("InstanceId.2", "i-002"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.inspected("i-002").await["status"], "Starting");
    let (status, body) = api
        .call("RebootInstances", &[("RegionId", "cn-hangzhou")])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("MissingParameter"))
    );
    let (status, _) = api
        .call(
            "RebootInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-000"),
                ("BatchOptimization", "Sometimes"),
            ],
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn stop_then_start_goes_through_stopping_and_starting() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call(
            "StopInstance",
            &[
                ("InstanceId", "i-running"),
                ("StoppedMode", "StopCharging"),
                ("ForceStop", "False"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.inspected("i-running").await["status"], "Stopping");
    api.wait_for_status("i-running", "Stopped").await;
    let (status, _) = api
        .call("StopInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(status, 403);
    let (status, _) = api
        .call("StartInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(status, 200);
    api.wait_for_status("i-running", "Running").await;
}

#[tokio::test]
async fn dry_run_checks_preconditions_and_changes_nothing() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call(
            "RebootInstance",
            &[("InstanceId", "i-running"), ("DryRun", "true")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("DryRunOperation"))
    );
    assert_eq!(api.inspected("i-running").await["status"], "Running");
    let (status, body) = api
        .call(
            "StartInstance",
            &[("InstanceId", "i-running"), ("DryRun", "true")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (403, Some("IncorrectInstanceStatus"))
    );
    let (status, body) = api
        .call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("DryRun", "true")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("DryRunOperation"))
    );
}

#[tokio::test]
async fn instance_locked_for_security_refuses_reset_and_restart() {
    let api = Api::start(FLEET).await;
    let (status, body) = api
        .call(
            "ModifyInstanceAttribute",
            &[("InstanceId", "i-locked"), ("Password", "Locked#Pass1")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (403, Some("InstanceLockedForSecurity"))
    );
    let (status, body) = api
        .call("RebootInstance", &[("InstanceId", "i-locked")])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (403, Some("InstanceLockedForSecurity"))
    );
    assert_eq!(
        api.inspected("i-locked").await["pending_password"],
        Value::Null
    );
}

#[tokio::test]
async fn malformed_requests_get_missing_or_invalid_parameter() {
    let api = Api::start(FLEET).await;
    let (status, body) = api.call("RebootInstance", &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("MissingParameter"))
    );
    assert!(body["Message"].as_str().unwrap().contains("\"InstanceId\""));
    let (status, body) = api
        .call(
            "RebootInstance",
            &[("InstanceId", "i-running"), ("ForceStop", "maybe")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidParameter"))
    );
    let (status, body) = api
        .call("DeleteInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidAction.NotFound"))
    );
    let unsigned = api
        .http
        .get(format!(
            "{}/?Action=DescribeInstances&RegionId=cn-hangzhou",
            api.emulator.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 400);
    let body: Value = unsigned.json().await.unwrap();
    assert_eq!(body["Code"], "MissingParameter");
}

#[tokio::test]
async fn rate_limit_rule_throttles_calls_beyond_the_rate() {
    let api = Api::start(FLEET).await;
    let rule = json!({"action": "DescribeInstances", "rate_limit_per_second": 3});
    assert_eq!(api.post("/_emulator/faults", rule).await.0, 200);
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (status, body) = api
            .call("DescribeInstances", &[("RegionId", "cn-hangzhou")])
            .await;
        codes.push((status, body["Code"].as_str().unwrap_or("ok").to_owned()));
    }
    let throttled = codes
        .iter()
        .filter(|(status, code)| *status == 400 && code == "Throttling")
        .count();
    assert!(throttled >= 1, "{codes:?}");
    assert_eq!(codes[0], (200, "ok".to_owned()));
    let (status, _) = api
        .call("RebootInstance", &[("InstanceId", "i-running")])
        .await;
    assert_eq!(status, 200, "other operations are not throttled");
}

#[tokio::test]
async fn latency_rule_delays_answers_until_cleared() {
    let api = Api::start(FLEET).await;
    let rule = json!({"action": "*", "latency_ms": 500});
    assert_eq!(api.post("/_emulator/faults", rule).await.0, 200);
    let started = std::time::Instant::now();
    api.call("DescribeInstances", &[("RegionId", "cn-hangzhou")])
        .await;
    assert!(started.elapsed() >= Duration::from_millis(500));

    assert_eq!(
        api.post("/_emulator/faults", json!({"clear": true}))
            .await
            .0,
        200
    );
    let started = std::time::Instant::now();
    api.call("DescribeInstances", &[("RegionId", "cn-hangzhou")])
        .await;
    assert!(started.elapsed() < Duration::from_millis(500));
    let (status, body) = api
        .post("/_emulator/faults", json!({"action": "*", "colour": 1}))
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn concurrent_calls_on_one_instance_take_effect_exactly_once() {
    let api = std::sync::Arc::new(Api::start(FLEET).await);
    let mut reboots = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let api = std::sync::Arc::clone(&api);
        reboots.spawn(async move {
            api.call("RebootInstance", &[("InstanceId", "i-running")])
                .await
                .0
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = reboots.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 403).count(),
        31,
        "{statuses:?}"
    );
    let history = api.get("/_emulator/history").await;
    let reboots = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "RebootInstance")
        .count();
    assert_eq!(reboots, 1);
    assert_eq!(
        api.get("/_emulator/calls").await["calls"]["RebootInstance"],
        32
    );
}

#[tokio::test]
async fn recreated_instance_has_a_new_creation_time_and_no_password() {
    let api = Api::start(FLEET).await;
    let before = api.inspected("i-running").await;
    let (status, body) = api
        .post("/_emulator/instances/i-running", json!({"recreated": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    let after = api.inspected("i-running").await;
    assert_ne!(after["creation_time"], before["creation_time"]);
    assert_eq!(after["effective_password"], Value::Null);
    assert_eq!(after["status"], "Running");
    let (_, body) = api
        .call(
            "DescribeInstances",
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceIds", r#"["i-running"]"#),
            ],
        )
        .await;
    assert_eq!(
        body["Instances"]["Instance"][0]["CreationTime"],
        after["creation_time"]
    );
}

#[tokio::test]
async fn sts_credentials_need_their_security_token_under_v3() {
    let fleet = format!(
        "{FLEET}[credentials]\naccess_key_id = \"testid\"\naccess_key_secret = \"testsecret\"\n\
         security_token = \"sts-token\"\n"
    );
    let api = Api::start(&fleet).await;
    let parameters = [("RegionId", "cn-hangzhou")];
    let (status, body) = api
        .call_v3_with_token("DescribeInstances", &parameters, "testsecret", None)
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidSecurityToken.MismatchWithAccessKey"))
    );
    let (status, body) = api
        .call_v3_with_token(
            "DescribeInstances",
            &parameters,
            "testsecret",
            Some("sts-token"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
