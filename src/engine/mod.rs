//! The rendering engine: Tera setup, the template context, Helm-parity functions and
//! filters, and turning rendered text into ordered manifests.
