//! The release domain: provider run manifests, promotion gates, selection, fused release manifests and the kernel manifest.
