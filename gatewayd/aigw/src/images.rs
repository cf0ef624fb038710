//! Images by URL for providers that take only inline bytes (Gemini, Bedrock): before the
//! request is translated, each image a caller gave by `http(s)` URL — an OpenAI `image_url`
//! part, an Anthropic `image` block with a `url` source — is fetched by the gateway and put
//! inline (a `data:` URL, a `base64` source), so the translators see only bytes. The image's
//! type is sniffed from its bytes (PNG, JPEG, GIF, WebP); what it declares is not trusted.
//!
//! Bounded: at most [`MAX_IMAGES`] images per call, [`MAX_IMAGE_BYTES`] each, one
//! [`FETCH_TIMEOUT`] for the whole fetch (DNS, connect, TLS, headers, body).
//!
//! Never: dial a loopback, link-local (cloud metadata), private, reserved or multicast
//! address — judged by the proxy's rules (`config::address_class`) on the address actually
//! dialled, after DNS, so a name that resolves (or rebinds) there is refused too; only
//! `[upstream] connect_to`, the operator's explicit mapping, bypasses that. Follow a
//! redirect, fetch a scheme other than http and https, or pass on bytes that are not an
//! image. Every failure is a 400 in the caller's dialect naming the field.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::dialect::Dialect;
use crate::error::CallError;

/// The most images fetched for one call.
pub const MAX_IMAGES: usize = 8;
/// The most bytes one image may have.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// The time one image's fetch may take, all of it.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Fetches images by URL under the rules above.
pub struct ImageFetcher {
    tls: TlsConnector,
    /// `[upstream] connect_to`: `host:port` → the address dialled instead (explicit, so it
    /// bypasses the address rules, as it does for the proxy).
    connect_to: BTreeMap<String, SocketAddr>,
}

impl ImageFetcher {
    pub fn new(tls: Arc<rustls::ClientConfig>, connect_to: &BTreeMap<String, String>) -> Self {
        let connect_to = connect_to
            .iter()
            .filter_map(|(from, to)| Some((from.to_ascii_lowercase(), to.parse().ok()?)))
            .collect();
        Self {
            tls: TlsConnector::from(tls),
            connect_to,
        }
    }

    /// The image at `url` (the caller's field `param`): its sniffed type and its bytes.
    pub async fn fetch(&self, url: &str, param: &str) -> Result<(&'static str, Bytes), CallError> {
        let bad = |why: String| CallError::bad_request(param, format!("{param}: {why}"));
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            return Err(bad("only http and https image URLs are fetched".into()));
        }
        let uri: Uri = url
            .parse()
            .map_err(|_| bad("is not a URL the gateway can fetch".into()))?;
        let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("only http and https image URLs are fetched".into())),
        };
        let Some(host) = uri
            .host()
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
        else {
            return Err(bad("the image URL has no host".into()));
        };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let fetch = async {
            let addr = self.address(&host, port).await.map_err(&bad)?;
            let tcp = TcpStream::connect(addr).await.map_err(|e| {
                bad(format!(
                    "the image's host {host} could not be reached ({e})"
                ))
            })?;
            let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
            let authority = uri.authority().map_or(host.clone(), |a| a.to_string());
            if !https {
                return get(tcp, &authority, &path).await.map_err(&bad);
            }
            let name = ServerName::try_from(host.clone())
                .map_err(|_| bad("the image's host is not a TLS name".into()))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| bad(format!("TLS to the image's host {host} failed ({e})")))?;
            get(tls, &authority, &path).await.map_err(&bad)
        };
        let bytes = tokio::time::timeout(FETCH_TIMEOUT, fetch)
            .await
            .map_err(|_| {
                bad(format!(
                    "the image was not fetched within {} s",
                    FETCH_TIMEOUT.as_secs()
                ))
            })??;
        let mime = sniff(&bytes)
            .ok_or_else(|| bad("the URL's content is not a PNG, JPEG, GIF or WebP image".into()))?;
        Ok((mime, bytes))
    }

    /// The address to dial for `host:port`: the operator's `connect_to`, or the first address
    /// it resolves to that is an ordinary internet address (any other is refused, named).
    async fn address(&self, host: &str, port: u16) -> Result<SocketAddr, String> {
        if let Some(addr) = self.connect_to.get(&format!("{host}:{port}")) {
            return Ok(*addr);
        }
        let addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("the image's host {host} could not be resolved ({e})"))?;
        let mut refused = None;
        for addr in addrs {
            match config::address_class::classify(addr.ip()) {
                None => return Ok(addr),
                Some(why) => refused = Some(why),
            }
        }
        Err(match refused {
            Some(why) => format!(
                "the gateway does not fetch images from {host}: {}",
                why.explain()
            ),
            None => format!("the image's host {host} has no address"),
        })
    }
}

/// One GET over `stream`; the body, bounded. The connection is driven in this task, beside
/// the exchange (no task outlives the call, and the fetch's timeout bounds both).
async fn get<S>(stream: S, authority: &str, path: &str) -> Result<Bytes, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("the image's host did not speak HTTP ({e})"))?;
    let mut connection = std::pin::pin!(connection);
    let mut exchange = std::pin::pin!(exchange(sender, authority, path));
    tokio::select! {
        result = &mut exchange => return result,
        _ = &mut connection => {}
    }
    // The connection ended first: the exchange now fails (or has its answer) at once.
    exchange.await
}

async fn exchange(
    mut sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    authority: &str,
    path: &str,
) -> Result<Bytes, String> {
    let request = Request::get(path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "warden-aigw")
        .header(http::header::ACCEPT, "image/*")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("the image URL cannot be requested ({e})"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the image's host failed to answer ({e})"))?;
    let status = response.status();
    if status.is_redirection() {
        return Err(format!(
            "the image URL redirects ({status}); give the URL it redirects to"
        ));
    }
    if status != StatusCode::OK {
        return Err(format!("the image URL answered {status}"));
    }
    let too_big = || format!("the image is larger than {MAX_IMAGE_BYTES} bytes");
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_IMAGE_BYTES as u64) {
        return Err(too_big());
    }
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("the image's body failed ({e})"))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_IMAGE_BYTES {
                return Err(too_big());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// The image type of `bytes` by their signature.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Fetches every image a caller gave by URL in `body` (in the caller's dialect) and puts it
/// inline, for a provider that takes only bytes.
pub async fn inline(
    fetcher: &ImageFetcher,
    ingress: Dialect,
    body: &mut Value,
) -> Result<(), CallError> {
    let mut wanted = Vec::new();
    for (i, message) in body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, part) in message["content"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let path = format!("messages[{i}].content[{j}]");
            let url = match ingress {
                Dialect::Anthropic
                    if part["type"] == "image" && part["source"]["type"] == "url" =>
                {
                    (part["source"]["url"].as_str(), format!("{path}.source.url"))
                }
                Dialect::OpenAi if part["type"] == "image_url" => (
                    part["image_url"]["url"].as_str(),
                    format!("{path}.image_url.url"),
                ),
                _ => continue,
            };
            match url {
                (Some(url), _)
                    if url
                        .get(..5)
                        .is_some_and(|s| s.eq_ignore_ascii_case("data:")) => {}
                (Some(url), param) => wanted.push((i, j, url.to_string(), param)),
                // A missing or non-string URL: the translator names it.
                (None, _) => {}
            }
        }
    }
    if wanted.len() > MAX_IMAGES {
        return Err(CallError::bad_request(
            "messages",
            format!(
                "{} images by URL in one call; the gateway fetches at most {MAX_IMAGES}",
                wanted.len()
            ),
        ));
    }
    for (i, j, url, param) in wanted {
        let (mime, bytes) = fetcher.fetch(&url, &param).await?;
        let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let part = &mut body["messages"][i]["content"][j];
        match ingress {
            Dialect::Anthropic => {
                part["source"] = json!({"type": "base64", "media_type": mime, "data": data});
            }
            _ => part["image_url"]["url"] = json!(format!("data:{mime};base64,{data}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes_not_their_names() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<html><body>not an image"), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
    }
}
