//! What an API request carries, decoded: method, query and form parameters, headers, body.
//!
//! The SDKs put parameters in the URL query with `+` for a space, and sometimes in an
//! `application/x-www-form-urlencoded` body; both are decoded here as form data, so that
//! authentication can re-encode them by the signing rules instead of trusting raw bytes.
//! Parameters keep their order and duplicates; empty values are kept, since they are signed.

use std::collections::BTreeMap;

use super::response::ApiError;

/// A decoded API request.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// `GET` or `POST`, upper case.
    pub method: String,
    /// The URL path, normally `/`.
    pub path: String,
    /// The URL query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// The form body parameters, decoded (empty unless the body is a form).
    pub form: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// The raw body, which signature V3 hashes.
    pub body: Vec<u8>,
    /// Query and form parameters together, the form's winning on a clash.
    parameters: Parameters,
}

impl ApiRequest {
    /// Decodes the parts of an HTTP request.
    pub fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<ApiRequest, ApiError> {
        let query = decode_form(query.unwrap_or(""))?;
        let is_form = headers.iter().any(|(name, value)| {
            name == "content-type" && value.starts_with("application/x-www-form-urlencoded")
        });
        let form = if is_form && !body.is_empty() {
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::invalid_parameter("the form body is not UTF-8"))?;
            decode_form(text)?
        } else {
            Vec::new()
        };
        let mut values = BTreeMap::new();
        for (name, value) in query.iter().chain(form.iter()) {
            values.insert(name.clone(), value.clone());
        }
        Ok(ApiRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query,
            form,
            headers,
            body,
            parameters: Parameters { values },
        })
    }

    /// The value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// Query and form parameters together, the form's winning on a clash.
    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }

    /// The operation: the `x-acs-action` header (signature V3) or the `Action` parameter.
    pub fn action(&self) -> Option<String> {
        self.header("x-acs-action")
            .map(str::to_owned)
            .or_else(|| self.parameters().get("Action").map(str::to_owned))
    }
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XY` a byte.
pub fn decode_form(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(index + 1..index + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| ApiError::invalid_parameter("a query escape is malformed"))?;
                decoded.push(hex);
                index += 2;
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8(decoded)
        .map_err(|_| ApiError::invalid_parameter("a query parameter is not UTF-8"))
}

/// An operation's parameters, with the API's conventions for booleans, numbers and lists.
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    values: BTreeMap<String, String>,
}

impl Parameters {
    /// A parameter's value, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A parameter that must be present and not empty.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// A boolean in any letter case (`true`, `True`, `FALSE`); absent is `default`.
    pub fn boolean(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::invalid_named_parameter(name)),
        }
    }

    /// A whole number within `range`; absent is `default`.
    pub fn number(
        &self,
        name: &str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(value) => value
                .parse::<u64>()
                .ok()
                .filter(|number| range.contains(number))
                .ok_or_else(|| ApiError::invalid_named_parameter(name)),
        }
    }

    /// A repeated parameter `Name.1`, `Name.2`, ... in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.");
        let mut indexed: Vec<(u64, String)> = self
            .values
            .iter()
            .filter_map(|(key, value)| {
                let index = key.strip_prefix(&prefix)?.parse().ok()?;
                Some((index, value.clone()))
            })
            .collect();
        indexed.sort_by_key(|(index, _)| *index);
        indexed.into_iter().map(|(_, value)| value).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_treats_plus_as_space_and_keeps_empty_values() {
        let pairs = decode_form("Password=Ab1%21x+y&SignatureType=&Flag").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("Password".to_owned(), "Ab1!x y".to_owned()),
                ("SignatureType".to_owned(), String::new()),
                ("Flag".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn malformed_escape_is_an_invalid_parameter() {
        let error = decode_form("A=%G1").unwrap_err();
        assert_eq!(error.code, "InvalidParameter");
    }

    #[test]
    fn form_body_parameters_merge_with_the_query() {
        let request = ApiRequest::new(
            "post",
            "/",
            Some("Action=StartInstances"),
            vec![(
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            )],
            b"InstanceId.2=i-b&InstanceId.1=i-a&InstanceId.10=i-j".to_vec(),
        )
        .unwrap();
        let parameters = request.parameters();
        assert_eq!(request.method, "POST");
        assert_eq!(parameters.get("Action"), Some("StartInstances"));
        assert_eq!(parameters.list("InstanceId"), vec!["i-a", "i-b", "i-j"]);
    }

    #[test]
    fn booleans_are_accepted_in_any_letter_case() {
        let request = ApiRequest::new(
            "GET",
            "/",
            Some("A=False&B=TRUE&C=yes"),
            Vec::new(),
            Vec::new(),
        )
        .unwrap();
        let parameters = request.parameters();
        assert!(!parameters.boolean("A", true).unwrap());
        assert!(parameters.boolean("B", false).unwrap());
        assert!(parameters.boolean("C", false).is_err());
        assert!(parameters.boolean("D", true).unwrap());
    }
}
