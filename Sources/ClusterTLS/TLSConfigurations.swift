import NIOSSL

/// The TLS settings orchestrator uses, in one place: TLS 1.2 or newer everywhere.
///
/// - API server: its certificate; with a client CA, clients must present a certificate from it.
/// - API client (CLI, forwarding to the leader): full verification (chain and host name)
///   against the given CA, or the system's roots without one; optionally a client certificate.
/// - Between nodes: both sides present their node certificate and require one from the
///   cluster CA. Host names are not checked there: the node id SAN is the identity
///   (``NodeIdentity``), checked by the transport after the handshake.
public enum TLSConfigurations {
    /// The oldest protocol version accepted anywhere.
    public static let minimumVersion = TLSVersion.tlsv12

    /// An HTTPS server presenting `identity`; with `clientCA`, a client certificate issued by
    /// it is required.
    public static func server(identity: TLSIdentity, clientCA: [NIOSSLCertificate]? = nil) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.certificateChain.map { .certificate($0) }, privateKey: .privateKey(identity.privateKey))
        configuration.minimumTLSVersion = minimumVersion
        if let clientCA {
            configuration.trustRoots = .certificates(clientCA)
            // On a server this requires a client certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
            // a client has no host name to check.
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }

    /// An HTTPS client: trusts `trustRoots` (nil: the system's roots), checks the server's host
    /// name against its certificate, and presents `identity` when given.
    public static func client(trustRoots: [NIOSSLCertificate]?, identity: TLSIdentity? = nil) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = minimumVersion
        configuration.certificateVerification = .fullVerification
        if let trustRoots { configuration.trustRoots = .certificates(trustRoots) }
        if let identity {
            configuration.certificateChain = identity.certificateChain.map { .certificate($0) }
            configuration.privateKey = .privateKey(identity.privateKey)
        }
        return configuration
    }

    /// Mutual TLS between nodes, the accepting side: requires a certificate from `clusterCA`.
    public static func peerServer(identity: TLSIdentity, clusterCA: [NIOSSLCertificate]) -> TLSConfiguration {
        server(identity: identity, clientCA: clusterCA)
    }

    /// Mutual TLS between nodes, the dialing side: presents `identity`, requires the peer's
    /// certificate to chain to `clusterCA` (its node id is checked by the transport).
    public static func peerClient(identity: TLSIdentity, clusterCA: [NIOSSLCertificate]) -> TLSConfiguration {
        var configuration = client(trustRoots: clusterCA, identity: identity)
        configuration.certificateVerification = .noHostnameVerification
        return configuration
    }
}
