import NIOSSL
import X509

/// The node-identity rule of mutual TLS between nodes (docs/security.md, docs/transport.md).
///
/// A node certificate names the node it belongs to in a URI subject alternative name,
/// `orchestrator://node/<id>` (the id in decimal, no leading zeros, not 0). The DNS and IP
/// SANs next to it are the hosts the node is reached at (what API clients verify). A peer
/// that claims node id N in its handshake frame must present a certificate carrying
/// `orchestrator://node/N`; the dialer checks the same of the node it dialed.
///
/// ```swift
/// NodeIdentity.uri(for: 3)                       // "orchestrator://node/3"
/// NodeIdentity.nodeID(fromURI: "orchestrator://node/3")   // 3
/// try NodeIdentity.nodeIDs(in: peerCertificate)   // [3]
/// ```
public enum NodeIdentity {
    /// Everything before the id.
    public static let uriPrefix = "orchestrator://node/"

    /// The URI SAN of node `id`.
    public static func uri(for id: UInt64) -> String {
        precondition(id != 0, "node id 0 means none")
        return uriPrefix + String(id)
    }

    /// The node id a URI SAN names, or nil when it is not a node URI (other URIs may sit
    /// in the same certificate and are ignored).
    public static func nodeID(fromURI uri: String) -> UInt64? {
        guard uri.hasPrefix(uriPrefix) else { return nil }
        let digits = uri.dropFirst(uriPrefix.count)
        guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits.first != "0", let id = UInt64(digits), id != 0 else { return nil }
        return id
    }

    /// Every node id a certificate carries, in the order of its SANs (normally one).
    public static func nodeIDs(in certificate: Certificate) -> [UInt64] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            if case .uniformResourceIdentifier(let uri) = name { return nodeID(fromURI: uri) }
            return nil
        }
    }

    /// Every node id a peer's certificate (as the TLS handshake hands it over) carries; empty
    /// when it carries none or cannot be parsed.
    public static func nodeIDs(in certificate: NIOSSLCertificate) -> [UInt64] {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return [] }
        return nodeIDs(in: parsed)
    }

    /// "node 3", "nodes 3, 4" or "no node id" — for log lines and refusals.
    public static func describe(_ ids: [UInt64]) -> String {
        switch ids.count {
        case 0: "no node id (no \(uriPrefix)<id> SAN)"
        case 1: "node \(ids[0])"
        default: "nodes " + ids.map(String.init).joined(separator: ", ")
        }
    }
}
