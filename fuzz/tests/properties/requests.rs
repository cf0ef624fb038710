//! What clients put in requests: the CONNECT target, the Host header of a PAC request, a
//! multipart upload, an agent's posture report.

use proptest::prelude::*;
use warden_fuzz::ai_key_headers::ai_key_headers;
use warden_fuzz::connect_line::connect_line;
use warden_fuzz::multipart::multipart;
use warden_fuzz::pac::pac;
use warden_fuzz::posture::posture;

use crate::mutate::{damaged, damaged_from};

/// Targets around the valid shape: names, IPv4, bracketed IPv6, user info, paths, odd ports.
fn target() -> impl Strategy<Value = Vec<u8>> {
    let host = prop_oneof![
        "[a-z0-9.-]{1,30}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "\\[[0-9a-f:]{2,20}\\]",
        "[a-z]{1,8}@[a-z.]{1,12}",
        "[!$&'()*+,;=%a-z0-9]{1,12}",
    ];
    let port = prop_oneof![Just(String::new()), "[0-9]{1,6}", Just("0".to_string())];
    let tail = prop_oneof![
        Just(String::new()),
        Just("/".to_string()),
        "/[a-z?#]{1,8}",
        Just(" HTTP/1.1".to_string()),
    ];
    let scheme = prop_oneof![Just(""), Just("https://"), Just("//")];
    damaged_from(
        (scheme, host, port, tail).prop_map(|(scheme, host, port, tail)| {
            let port = if port.is_empty() {
                port
            } else {
                format!(":{port}")
            };
            format!("{scheme}{host}{port}{tail}").into_bytes()
        }),
    )
}

fn part() -> impl Strategy<Value = Vec<u8>> {
    let field = ("[a-z]{1,8}", "[ -~]{0,40}").prop_map(|(name, value)| {
        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}").into_bytes()
    });
    let file = (
        "[a-z]{1,8}\\.(txt|zip|gz|docx|bin)",
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(name, content)| {
            let mut part = format!(
                "Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .into_bytes();
            part.extend(content);
            part
        });
    let archive = crate::archives::archive().prop_map(|zip| {
        let mut part =
            b"Content-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n\r\n".to_vec();
        part.extend(zip);
        part
    });
    prop_oneof![field, file, archive]
}

fn upload() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        "[A-Za-z0-9'()+_,./:=?-]{1,40}",
        prop::collection::vec(part(), 0..5),
    )
        .prop_flat_map(|(boundary, parts)| {
            let mut body = Vec::new();
            for part in &parts {
                body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                body.extend_from_slice(part);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            (Just(boundary), damaged(body))
        })
}

proptest! {
    #![proptest_config(crate::config(512))]

    #[test]
    fn a_connect_target_is_a_clean_host_and_port_or_refused(bytes in target()) {
        connect_line(&bytes);
    }

    #[test]
    fn ai_key_headers_are_read_within_bounds_and_only_as_carried(
        data in damaged_from(
            (
                "[a-z=&]{0,10}(key=(AIza|sk-)[A-Za-z0-9_-]{0,60})?",
                prop::collection::vec(
                    prop_oneof![
                        "(Bearer |AWS4-HMAC-SHA256 Credential=)?(sk-proj-|sk-ant-api03-|AKIA|AIza)?[A-Za-z0-9/_=, -]{0,80}",
                        "Bearer [A-Za-z0-9]{2040,2060}",
                    ],
                    0..12,
                ),
            )
                .prop_map(|(query, lines)| format!("{query}\n{}", lines.join("\n")).into_bytes()),
        ),
    ) {
        ai_key_headers(&data);
    }

    #[test]
    fn a_host_header_only_ever_names_the_proxy_in_the_pac_script(
        host in prop_oneof![
            "[a-z0-9.:-]{0,40}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..64),
            "[a-z.]{1,10}\";alert(1);//".prop_map(String::into_bytes),
        ],
    ) {
        pac(&host);
    }

    #[test]
    fn a_posture_report_is_read_within_bounds(
        body in damaged_from(
            prop::collection::vec(("[a-z_]{1,70}", "[ -~]{0,300}"), 0..70).prop_map(|facts| {
                let fields: Vec<String> =
                    facts.iter().map(|(k, v)| format!("\"{k}\":\"{v}\"")).collect();
                format!("{{{}}}", fields.join(",")).into_bytes()
            }),
        ),
    ) {
        posture(&body);
    }
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn a_multipart_upload_yields_bounded_text((boundary, body) in upload()) {
        multipart(&boundary, &body);
    }
}
