//! `/ai/provider-keys`: the AI providers' keys the organisation holds — names, providers,
//! fingerprints, dates and when a call last used each, never a value — with forms to add,
//! rotate (the old value stays usable for a grace period) and delete. Only the key_admin and
//! admin roles see or post it; values go into the encrypted store through the command
//! line's code (`gatewayd keys`), and every change is in the admin audit trail.
//!
//! It must never: show, echo or redirect with a value — not in the page, an error (the store's
//! errors hold none), a form's `value` attribute or a URL.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use http::StatusCode;

use super::html::escape;
use super::pages::Page;
use super::session::Session;
use super::vkeys::{failed, manager, time_ms, Posted};
use crate::view::ProxyView;
use report::form;

/// The grace a rotation gives the previous value when the form names none.
const DEFAULT_GRACE: &str = "24h";

/// The page body.
pub fn page(proxy: &dyn ProxyView, session: &Session) -> Page {
    let keys = manager(proxy, session)?;
    let listed = keys.provider_keys().map_err(failed)?;
    let csrf = escape(&session.csrf);
    let mut body = String::from(
        "<p>The keys the AI gateway calls providers with, encrypted at rest with the master \
         key. Nobody reads a value back: this page, the API and <code>gatewayd keys list</code> \
         show names, fingerprints and dates only. Routes use a key by its name. \
         <a href=\"/ai/keys\">Virtual keys</a> · <a href=\"/ai\">Spend</a></p>",
    );
    if listed.is_empty() {
        body.push_str("<p class=\"empty\" id=\"no-provider-keys\">No provider keys yet.</p>");
    } else {
        body.push_str(
            "<table id=\"provider-keys\"><thead><tr><th>Name</th><th>Provider</th>\
             <th>Fingerprint</th><th>Version</th><th>Created</th><th>Rotated</th>\
             <th>Last used</th><th>Rotate (new value, grace)</th><th></th></tr></thead><tbody>",
        );
        for k in &listed {
            let _ = write!(
                body,
                "<tr id=\"provider-key-{name}\"><td>{name}</td><td>{provider}</td><td><code>{fp}</code></td>\
                 <td class=\"num\">{version}</td><td>{created}</td><td>{rotated}</td><td>{used}</td>\
                 <td><form method=\"post\" action=\"/ai/provider-keys/{path}/rotate\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"password\" name=\"value\" id=\"rotate-value-{name}\" autocomplete=\"off\" size=\"16\" required>\
                 <input name=\"grace\" value=\"{DEFAULT_GRACE}\" size=\"4\">\
                 <button type=\"submit\" id=\"rotate-{name}\">Rotate</button></form></td>\
                 <td><form method=\"post\" action=\"/ai/provider-keys/{path}/delete\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button type=\"submit\" id=\"delete-{name}\">Delete</button></form></td></tr>",
                name = escape(&k.name),
                path = form::encode(&k.name),
                provider = escape(&k.provider),
                fp = escape(&k.fingerprint),
                version = k.version,
                created = escape(&time_ms(k.created_unix_ms)),
                rotated = k.rotated_unix_ms.map_or("never".into(), |t| escape(&time_ms(t))),
                used = k
                    .last_used_unix_ms
                    .map_or("not since start".into(), |t| escape(&time_ms(t))),
            );
        }
        body.push_str("</tbody></table>");
    }
    let mut providers = String::new();
    for kind in keys.provider_kinds() {
        let kind = escape(&kind);
        let _ = write!(providers, "<option value=\"{kind}\">{kind}</option>");
    }
    let _ = write!(
        body,
        "<h2>Add a provider key</h2>\
         <form method=\"post\" action=\"/ai/provider-keys/add\" id=\"add-provider-key\" class=\"filters\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Name <input name=\"name\" id=\"pkey-name\" required size=\"16\"></label>\
         <label>Provider <select name=\"provider\" id=\"pkey-provider\">{providers}</select></label>\
         <label>Value <input type=\"password\" name=\"value\" id=\"pkey-value\" autocomplete=\"off\" required size=\"24\"></label>\
         <button type=\"submit\" id=\"add-key\">Add</button></form>"
    );
    Ok(body)
}

/// A form posted to `/ai/provider-keys/...` (`rest` is the path after it).
pub fn post(
    proxy: &dyn ProxyView,
    session: &Session,
    rest: &[&str],
    fields: &BTreeMap<String, String>,
    actor: &str,
) -> Result<Posted, (StatusCode, String)> {
    let keys = manager(proxy, session)?;
    let field = |name: &str| fields.get(name).map_or("", |v| v.trim());
    let value = || {
        let value = field("value");
        if value.is_empty() {
            Err((StatusCode::BAD_REQUEST, "The key's value is empty.".into()))
        } else {
            Ok(value)
        }
    };
    match rest {
        ["add"] => {
            keys.add_provider_key(field("name"), field("provider"), value()?, actor)
                .map_err(failed)?;
        }
        [name, "rotate"] => {
            let grace = match field("grace") {
                "" => DEFAULT_GRACE,
                grace => grace,
            };
            let grace = match grace {
                "0" | "0s" => Duration::ZERO,
                grace => Duration::from_secs(
                    report::filter::parse_span(grace)
                        .map_err(|e| (StatusCode::BAD_REQUEST, format!("Grace: {e}")))?
                        .unsigned_abs(),
                ),
            };
            keys.rotate_provider_key(&form::decode_path(name), value()?, grace, actor)
                .map_err(failed)?;
        }
        [name, "delete"] => {
            let name = form::decode_path(name);
            let users = keys.providers_using_key(&name);
            // Deleting a key in use is an outage for every caller of those providers and
            // cannot be undone: ask first, naming them.
            if !users.is_empty() && field("confirm") != "yes" {
                let question = format!(
                    "Provider key <strong>{}</strong> is used by the AI gateway's provider{}                      <strong>{}</strong>. Deleting it stops every call to {} at once, and its                      value cannot be recovered. Delete it anyway?",
                    escape(&name),
                    if users.len() == 1 { "" } else { "s" },
                    escape(&users.join(", ")),
                    if users.len() == 1 { "it" } else { "them" },
                );
                let body = super::confirm::ask_page(
                    session,
                    &format!("/ai/provider-keys/{}/delete", form::encode(&name)),
                    &question,
                    "Delete the key",
                    &BTreeMap::new(),
                    "/ai/provider-keys",
                );
                return Ok(Posted::Page("Delete a provider key in use?", body));
            }
            keys.delete_provider_key(&name, actor).map_err(failed)?;
        }
        _ => return Err((StatusCode::NOT_FOUND, "There is no such form.".into())),
    }
    Ok(Posted::Redirect("/ai/provider-keys".into()))
}
