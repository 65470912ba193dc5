import NIOSSL

/// Mutual TLS between the nodes of a cluster: this node's certificate and key, the cluster
/// CA, and the two SSL contexts made from them once (`TCPTransport.Options.peerTLS`).
///
/// ```swift
/// let tls = try PeerTLS.load(certificate: TLSFile("node-1.pem", setting: "--peer-cert"),
///                            key: TLSFile("node-1-key.pem", setting: "--peer-key"),
///                            ca: TLSFile("ca.pem", setting: "--peer-ca"), nodeID: 1)
/// options.peerTLS = tls
/// ```
public struct PeerTLS: Sendable {
    public let identity: TLSIdentity
    public let clusterCA: [NIOSSLCertificate]
    /// For accepted connections: presents `identity`, requires a certificate from `clusterCA`.
    public let serverContext: NIOSSLContext
    /// For dialed connections: presents `identity`, requires the peer's chain to `clusterCA`.
    public let clientContext: NIOSSLContext

    /// Builds the contexts. Fails (one line naming the file) when a file is unusable or, with
    /// `nodeID`, when the certificate does not carry that node's id SAN.
    public static func load(certificate: TLSFile, key: TLSFile, ca: TLSFile, nodeID: UInt64? = nil) throws(TLSFileError) -> PeerTLS {
        let identity = try TLSIdentity.load(certificate: certificate, key: key)
        let clusterCA = try PEMFiles.trustRoots(ca)
        if let nodeID, !identity.nodeIDs.contains(nodeID) {
            throw certificate.error("the certificate is for \(NodeIdentity.describe(identity.nodeIDs)), not node \(nodeID): "
                                    + "a node certificate must carry the SAN \(NodeIdentity.uri(for: nodeID)) "
                                    + "(orchestrator certs node --node-id \(nodeID) issues one)")
        }
        return try PeerTLS(identity: identity, clusterCA: clusterCA, caFile: ca)
    }

    /// Contexts from material already loaded.
    public init(identity: TLSIdentity, clusterCA: [NIOSSLCertificate]) throws(TLSFileError) {
        try self.init(identity: identity, clusterCA: clusterCA, caFile: TLSFile("(in memory)", setting: "peer CA"))
    }

    private init(identity: TLSIdentity, clusterCA: [NIOSSLCertificate], caFile: TLSFile) throws(TLSFileError) {
        self.identity = identity
        self.clusterCA = clusterCA
        do {
            serverContext = try NIOSSLContext(configuration: TLSConfigurations.peerServer(identity: identity, clusterCA: clusterCA))
            clientContext = try NIOSSLContext(configuration: TLSConfigurations.peerClient(identity: identity, clusterCA: clusterCA))
        } catch {
            throw caFile.error("cannot make a TLS context from this CA and the node certificate (\(error))")
        }
    }
}
