//! Provenance files (`NAME-VERSION.tgz.prov`) in Helm's format: an OpenPGP clear-signed
//! message holding the chart's metadata as YAML, the YAML end-of-document marker `...`, and
//! a `files:` map from the archive's file name to `sha256:HEX`.
//!
//! Keys come from keyrings in the legacy binary format GnuPG writes with `gpg --export`
//! (public) and `gpg --export-secret-keys` (secret), the format Helm reads. Signatures are
//! made with SHA-512, as Helm makes them, so either tool verifies the other's files.

mod keyring;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pgp::composed::CleartextSignedMessage;
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password};

pub use keyring::{load_public, load_secret};

/// The provenance file that belongs next to `archive`.
pub fn prov_path(archive: &Path) -> PathBuf {
    let mut s = archive.as_os_str().to_os_string();
    s.push(".prov");
    PathBuf::from(s)
}

/// What a successful verification established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    /// The archive's file name, as recorded in the provenance file.
    pub file_name: String,
    /// `sha256:HEX` of the archive.
    pub file_hash: String,
    /// The user IDs of the key that made the signature.
    pub signed_by: Vec<String>,
    /// The signing key's fingerprint (hex).
    pub fingerprint: String,
}

/// The message Helm signs: metadata YAML, `...`, then the `files:` map, ending in a line
/// break (so the armored file has a blank line before the signature, as Helm's has).
fn message_block(metadata_yaml: &str, file_name: &str, archive: &[u8]) -> String {
    let hash = crate::package::digest(archive);
    let mut block = String::with_capacity(metadata_yaml.len() + 200);
    block.push_str(metadata_yaml);
    if !block.ends_with('\n') {
        block.push('\n');
    }
    block.push_str("\n...\n");
    block.push_str(&format!(
        "files:\n  {}: sha256:{hash}\n",
        yaml_key(file_name)
    ));
    block
}

/// Quotes a file name when YAML would read it as something other than a plain string.
fn yaml_key(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if plain && !name.is_empty() {
        name.to_string()
    } else {
        serde_json::to_string(name).expect("a string serialises")
    }
}

/// The chart metadata as Helm writes it into a provenance file: the Chart.yaml fields
/// with their keys sorted, empty ones left out.
pub fn metadata_yaml(meta: &crate::chart::metadata::Metadata) -> Result<String> {
    let value = sorted(serde_json::to_value(meta)?);
    crate::yaml::to_string(&value)
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let ordered: std::collections::BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::to_value(ordered).expect("plain data serialises")
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// Signs the package `archive` (its bytes and file name) with the secret key whose user ID
/// is or contains `key_name` in the keyring `secring`. `passphrase` unlocks a protected key.
/// Returns the armored provenance text.
pub fn sign(
    archive: &[u8],
    file_name: &str,
    key_name: &str,
    secring: &Path,
    passphrase: Option<&str>,
) -> Result<String> {
    let meta = crate::package::index::package_metadata(archive, Path::new(file_name))?;
    let text = message_block(&metadata_yaml(&meta)?, file_name, archive);
    let key = keyring::find_signing_key(secring, key_name)?;
    let password = passphrase
        .map(Password::from)
        .unwrap_or_else(Password::empty);
    let signer = key.primary_key.clone();
    let mut config = SignatureConfig::v4(
        SignatureType::Text,
        signer.algorithm(),
        HashAlgorithm::Sha512,
    );
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(
            chrono_now().context("the clock is before 1970")?,
        ))?,
        Subpacket::regular(SubpacketData::IssuerFingerprint(signer.fingerprint()))?,
    ];
    config.unhashed_subpackets = vec![Subpacket::regular(SubpacketData::Issuer(signer.key_id()))?];
    let msg = CleartextSignedMessage::new(&text, config, &signer, &password).map_err(|e| {
        let hint = if passphrase.is_none() {
            " (if the key is protected, pass its passphrase with --passphrase-file)"
        } else {
            " (is the passphrase right?)"
        };
        anyhow::anyhow!(
            "cannot sign with key `{key_name}` from `{}`: {e}{hint}",
            secring.display()
        )
    })?;
    msg.to_armored_string(Default::default())
        .context("cannot armor the signature")
}

fn chrono_now() -> Option<chrono::DateTime<chrono::Utc>> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    chrono::DateTime::from_timestamp(secs as i64, 0)
}

/// Checks the provenance text `prov` of the package `archive` named `file_name` against
/// the public keys in `pubring`: the signature must be good and made by one of those keys,
/// and the recorded sha256 of `file_name` must be the archive's.
pub fn verify(archive: &[u8], file_name: &str, prov: &str, pubring: &Path) -> Result<Verification> {
    let (msg, _) = CleartextSignedMessage::from_string(prov).map_err(|e| {
        anyhow::anyhow!(
            "the provenance file of {file_name} is not an OpenPGP clear-signed message: {e}"
        )
    })?;
    let keys = keyring::load_public(pubring)?;
    let signed = msg.signed_text();
    let mut signer = None;
    'outer: for sig in msg.signatures() {
        for key in &keys {
            let by_primary = sig.verify(&key.primary_key, signed.as_bytes()).is_ok();
            let by_subkey = || {
                key.public_subkeys
                    .iter()
                    .any(|s| sig.verify(&s.key, signed.as_bytes()).is_ok())
            };
            if by_primary || by_subkey() {
                signer = Some(key);
                break 'outer;
            }
        }
    }
    let Some(key) = signer else {
        let issuers: Vec<String> = msg
            .signatures()
            .iter()
            .flat_map(|s| s.issuer().into_iter().map(|id| format!("{id:?}")))
            .collect();
        bail!(
            "the signature in the provenance file of {file_name} does not verify with any key in `{}`: the file was changed after signing, or it was signed by a key that is not in the keyring (signed by key {})",
            pubring.display(),
            if issuers.is_empty() {
                "unknown".to_string()
            } else {
                issuers.join(", ")
            }
        );
    };
    let plain = signed.replace("\r\n", "\n");
    let files = parse_files(&plain).with_context(|| {
        format!("the provenance file of {file_name} has no readable `files:` section")
    })?;
    let actual = format!("sha256:{}", crate::package::digest(archive));
    match files.get(file_name) {
        None => bail!(
            "the provenance file does not list `{file_name}` (it lists {}); was the package renamed?",
            files.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        Some(recorded) if recorded != &actual => bail!(
            "{file_name} has been changed since it was signed: its digest is {actual}, the provenance file records {recorded}"
        ),
        Some(_) => {}
    }
    Ok(Verification {
        file_name: file_name.to_string(),
        file_hash: actual,
        signed_by: keyring::user_ids(&key.details),
        fingerprint: hex(key.primary_key.fingerprint().as_bytes()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The `files:` map after the `...` separator.
fn parse_files(plain: &str) -> Result<std::collections::BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct Sums {
        files: std::collections::BTreeMap<String, String>,
    }
    let Some((_, sums)) = plain.split_once("\n...\n") else {
        bail!("the `...` line that separates the metadata from the file digests is missing");
    };
    let sums: Sums = crate::yaml::from_str(sums, "the provenance file")?;
    Ok(sums.files)
}

/// `package --sign`: writes `ARCHIVE.prov` next to the package at `archive`.
pub fn sign_file(
    archive: &Path,
    key_name: &str,
    secring: &Path,
    passphrase_file: Option<&Path>,
) -> Result<PathBuf> {
    let bytes =
        std::fs::read(archive).with_context(|| format!("cannot read `{}`", archive.display()))?;
    let passphrase = passphrase_file.map(read_passphrase).transpose()?;
    let name = file_name(archive)?;
    let prov = sign(&bytes, &name, key_name, secring, passphrase.as_deref())?;
    let path = prov_path(archive);
    crate::fsutil::AtomicWrite::PUBLIC.write(&path, prov.as_bytes())?;
    Ok(path)
}

/// `verify`: checks `archive` against `ARCHIVE.prov` (or `prov` when given).
pub fn verify_file(archive: &Path, prov: Option<&Path>, pubring: &Path) -> Result<Verification> {
    let bytes =
        std::fs::read(archive).with_context(|| format!("cannot read `{}`", archive.display()))?;
    let prov_file = prov
        .map(Path::to_path_buf)
        .unwrap_or_else(|| prov_path(archive));
    let text = match std::fs::read_to_string(&prov_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "`{}` has no provenance file (`{}` does not exist); it was not signed, or the .prov was not downloaded with it",
            archive.display(),
            prov_file.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read `{}`", prov_file.display()));
        }
    };
    verify(&bytes, &file_name(archive)?, &text, pubring)
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("`{}` is not a file name", path.display()))
}

/// The first line of a passphrase file (as Helm reads it).
pub fn read_passphrase(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the passphrase file `{}`", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_block_has_helms_layout() {
        let block = message_block("name: a\nversion: 1.0.0\n", "a-1.0.0.tgz", b"x");
        assert_eq!(
            block,
            format!(
                "name: a\nversion: 1.0.0\n\n...\nfiles:\n  a-1.0.0.tgz: sha256:{}\n",
                crate::package::digest(b"x")
            )
        );
        let files = parse_files(&block).unwrap();
        assert_eq!(
            files["a-1.0.0.tgz"],
            format!("sha256:{}", crate::package::digest(b"x"))
        );
    }

    #[test]
    fn metadata_keys_are_sorted_like_helms() {
        let meta = crate::chart::metadata::Metadata {
            name: "gw".into(),
            version: "1.0.0".into(),
            api_version: "v2".into(),
            ..Default::default()
        };
        assert_eq!(
            metadata_yaml(&meta).unwrap(),
            "apiVersion: v2\nname: gw\nversion: 1.0.0\n"
        );
    }
}
