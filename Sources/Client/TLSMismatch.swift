import NIOSSL

/// A client and server that disagree about TLS, or a TLS handshake that failed, said as
/// what to do: "the server at X speaks TLS: use https:// and --cacert". Such an error is
/// `ClientError.unavailable` with one of ``codes`` and is never retried (retrying cannot fix it).
public enum TLSMismatch: Error, Sendable, Equatable {
    /// An `http://` request reached a TLS port (the server answered `tls_required`).
    case plainHTTPToTLSPort(String)
    /// An `https://` request reached a port that does not speak TLS.
    case tlsToPlainPort(String)
    /// The server's certificate is not trusted (unknown CA, wrong host name, expired).
    case untrustedServer(String, reason: String)
    /// The server wants a client certificate, or refused the one given.
    case clientCertificateRefused(String, reason: String)
    /// Any other TLS handshake failure.
    case handshakeFailed(String, reason: String)

    /// The `ClientError.unavailable` codes of these errors.
    public static let codes: Set<String> = ["tls_required", "tls_not_spoken", "tls_untrusted", "tls_client_certificate", "tls_failed"]

    /// Classifies a transport error from a request to `baseURL`; nil when it is not about TLS.
    init?(_ error: any Error, baseURL: String) {
        let text: String
        switch error {
        case NIOSSLError.handshakeFailed(let underlying): text = "\(underlying)"
        case let error as BoringSSLError: text = "\(error)"
        case let error as NIOSSLExtraError: text = "\(error)"
        default: return nil
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("UNEXPECTED_RECORD") || text.contains("HTTP_REQUEST") {
            self = .tlsToPlainPort(baseURL)
        } else if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("hostname") || text.contains("Hostname") {
            self = .untrustedServer(baseURL, reason: Self.reason(text))
        } else if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE_ON_CLIENT_HELLO")
                    || text.contains("UNKNOWN_CA") || text.contains("BAD_CERTIFICATE") || text.contains("CERTIFICATE_UNKNOWN") {
            self = .clientCertificateRefused(baseURL, reason: Self.reason(text))
        } else {
            self = .handshakeFailed(baseURL, reason: Self.reason(text))
        }
    }

    /// True for the body of the `400` a TLS port sends back to a plain HTTP request.
    static func isTLSRequiredAnswer(_ body: [UInt8]) -> Bool {
        String(decoding: body.prefix(200), as: UTF8.self).contains(#""code":"tls_required""#)
    }

    /// The short BoringSSL reason (`CERTIFICATE_VERIFY_FAILED`) out of its long description.
    static func reason(_ text: String) -> String {
        let reasons = text.split(whereSeparator: { !($0.isUppercase || $0.isNumber || $0 == "_") }).filter { $0.count > 8 && $0.contains("_") }
        return reasons.last.map(String.init) ?? text
    }

    public var clientError: ClientError {
        switch self {
        case .plainHTTPToTLSPort(let base):
            let https = base.hasPrefix("http://") ? "https://" + base.dropFirst("http://".count) : base
            return .unavailable(code: "tls_required",
                                message: "the server at \(base) speaks TLS: use \(https) and --cacert FILE (or ORCHESTRATOR_CACERT) with the cluster CA")
        case .tlsToPlainPort(let base):
            let http = base.hasPrefix("https://") ? "http://" + base.dropFirst("https://".count) : base
            return .unavailable(code: "tls_not_spoken", message: "the server at \(base) does not speak TLS: use \(http)")
        case .untrustedServer(let base, let reason):
            return .unavailable(code: "tls_untrusted",
                                message: "the certificate of the server at \(base) is not trusted (\(reason)): pass the CA that signed it "
                                    + "with --cacert FILE (or ORCHESTRATOR_CACERT), and use a host name its certificate names")
        case .clientCertificateRefused(let base, let reason):
            return .unavailable(code: "tls_client_certificate",
                                message: "the server at \(base) requires a client certificate from its CA (\(reason)): pass --cert FILE "
                                    + "and --key FILE (or ORCHESTRATOR_CERT, ORCHESTRATOR_KEY)")
        case .handshakeFailed(let base, let reason):
            return .unavailable(code: "tls_failed", message: "the TLS handshake with the server at \(base) failed (\(reason))")
        }
    }
}
