import NIOSSL

/// A TLS failure on a Raft connection, said for an operator: what the BoringSSL error
/// means for a cluster (a certificate from another CA, none at all, a peer without TLS).
/// `nil` for errors that are not TLS failures (an unclean shutdown is a closed connection).
struct TLSProblem: CustomStringConvertible {
    let description: String

    init?(_ error: any Error) {
        let text: String
        switch error {
        case NIOSSLError.handshakeFailed(let underlying): text = "\(underlying)"
        case let error as BoringSSLError: text = "\(error)"
        default: return nil
        }
        description = Self.explain(text)
    }

    static func explain(_ text: String) -> String {
        let meaning: String? =
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                "the peer's certificate is not signed by this cluster's CA (--peer-ca)"
            } else if text.contains("UNKNOWN_CA") || text.contains("BAD_CERTIFICATE") || text.contains("CERTIFICATE_UNKNOWN") {
                "the peer did not accept this node's certificate (is it from the cluster's CA, --peer-ca?)"
            } else if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || text.contains("CERTIFICATE_REQUIRED") {
                "no certificate was presented (every node needs --peer-cert and --peer-key)"
            } else if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") || text.contains("UNEXPECTED_RECORD") {
                "the other side does not speak TLS (is its mutual TLS configured: --peer-cert, --peer-key, --peer-ca?)"
            } else if text.contains("EXPIRED") {
                "a certificate has expired"
            } else {
                nil
            }
        return meaning.map { "\($0) [\(text)]" } ?? text
    }
}
