//! Reading OpenPGP keyrings: the binary files `gpg --export` and `gpg --export-secret-keys`
//! write (ASCII-armored exports are accepted too).

use std::path::Path;

use anyhow::{Context, Result, bail};
use pgp::composed::{Deserializable, SignedKeyDetails, SignedPublicKey, SignedSecretKey};

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "cannot read the {what} keyring `{}` (export one with `gpg --export{}`)",
            path.display(),
            if what == "secret" { "-secret-keys" } else { "" }
        )
    })
}

fn is_armored(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"-----BEGIN PGP")
}

/// The public keys in `path`. Secret keys in it count by their public halves, as a keyring
/// handed to `verify` may be either.
pub fn load_public(path: &Path) -> Result<Vec<SignedPublicKey>> {
    let bytes = read(path, "public")?;
    let mut keys = Vec::new();
    let (parsed, _) =
        pgp::composed::PublicOrSecret::from_reader_many(&bytes[..]).map_err(|e| bad(path, e))?;
    for key in parsed {
        match key.map_err(|e| bad(path, e))? {
            pgp::composed::PublicOrSecret::Public(k) => keys.push(k),
            pgp::composed::PublicOrSecret::Secret(k) => keys.push(k.signed_public_key()),
        }
    }
    if keys.is_empty() {
        bail!("the keyring `{}` holds no keys", path.display());
    }
    Ok(keys)
}

/// The secret keys in `path`.
pub fn load_secret(path: &Path) -> Result<Vec<SignedSecretKey>> {
    let bytes = read(path, "secret")?;
    let parsed: Vec<_> = if is_armored(&bytes) {
        SignedSecretKey::from_armor_many(&bytes[..])
            .map(|(it, _)| it.collect())
            .map_err(|e| bad(path, e))?
    } else {
        SignedSecretKey::from_bytes_many(&bytes[..])
            .map_err(|e| bad(path, e))?
            .collect()
    };
    let keys: Vec<SignedSecretKey> = parsed
        .into_iter()
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "`{}` is not a secret keyring ({e}); export one with `gpg --export-secret-keys KEY > FILE`",
                path.display()
            )
        })?;
    if keys.is_empty() {
        bail!(
            "`{}` holds no secret keys; export one with `gpg --export-secret-keys KEY > FILE`",
            path.display()
        );
    }
    Ok(keys)
}

fn bad(path: &Path, e: pgp::errors::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` is not an OpenPGP keyring: {e}; export one with `gpg --export KEY > FILE`",
        path.display()
    )
}

/// The user IDs of a key, as text.
pub fn user_ids(details: &SignedKeyDetails) -> Vec<String> {
    details
        .users
        .iter()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .collect()
}

/// The secret key whose user ID is `name`, or the only one whose user ID contains it (as
/// Helm and GnuPG pick keys).
pub fn find_signing_key(secring: &Path, name: &str) -> Result<SignedSecretKey> {
    let keys = load_secret(secring)?;
    if let Some(k) = keys
        .iter()
        .find(|k| user_ids(&k.details).iter().any(|u| u == name))
    {
        return Ok(k.clone());
    }
    let needle = name.to_lowercase();
    let matches: Vec<&SignedSecretKey> = keys
        .iter()
        .filter(|k| {
            user_ids(&k.details)
                .iter()
                .any(|u| u.to_lowercase().contains(&needle))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let known: Vec<String> = keys.iter().flat_map(|k| user_ids(&k.details)).collect();
            bail!(
                "no key in `{}` has a user ID matching `{name}` (it holds: {})",
                secring.display(),
                known.join("; ")
            )
        }
        many => {
            let ids: Vec<String> = many.iter().flat_map(|k| user_ids(&k.details)).collect();
            bail!(
                "`{name}` matches several keys in `{}` ({}); give the full user ID",
                secring.display(),
                ids.join("; ")
            )
        }
    }
}
