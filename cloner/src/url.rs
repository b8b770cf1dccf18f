//! Percent-encoding for the URLs backends build and read.
//!
//! A database, user or service name may hold anything a URL gives meaning
//! to (quotes, spaces, `/`, `?`, `#`, `@`, `%`, non-ASCII): encoded here,
//! it is one URL component that every client's URL parser decodes back.

/// Percent-encodes every byte except RFC 3986's unreserved characters
/// (`A–Z a–z 0–9 - . _ ~`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` sequences; `None` when one is malformed or the result is
/// not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_encoded_component_and_decode_back() {
        assert_eq!(percent_encode("shop_pc1_w1"), "shop_pc1_w1");
        let odd = "o'neil \"shop\" café/x?#%@";
        assert_eq!(
            percent_encode(odd),
            "o%27neil%20%22shop%22%20caf%C3%A9%2Fx%3F%23%25%40"
        );
        assert_eq!(percent_decode(&percent_encode(odd)).as_deref(), Some(odd));
    }

    #[test]
    fn malformed_escapes_are_refused() {
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%FF"), None, "not UTF-8");
        assert_eq!(percent_decode("p%40ss").as_deref(), Some("p@ss"));
    }
}
