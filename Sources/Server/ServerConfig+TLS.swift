import Cluster
import ClusterTLS
import Yams

/// The API's TLS files: `--tls-cert`, `--tls-key` and optionally `--tls-client-ca`, or the
/// config keys `tls: {cert, key, client_ca}`. Certificate and key come together or not at all.
public struct APITLSFiles: Sendable, Equatable {
    public var certificate: TLSFile?
    public var key: TLSFile?
    /// When set, API clients must present a certificate issued by this CA.
    public var clientCA: TLSFile?

    public init(certificate: TLSFile? = nil, key: TLSFile? = nil, clientCA: TLSFile? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }

    /// True when the API serves HTTPS.
    public var isEnabled: Bool { certificate != nil }
}

/// Mutual TLS between nodes: `--peer-cert`, `--peer-key`, `--peer-ca`, or the config keys
/// `peer_tls: {cert, key, ca}`. All three or none.
public struct PeerTLSFiles: Sendable, Equatable {
    public var certificate: TLSFile?
    public var key: TLSFile?
    /// The cluster CA: peers must present a certificate from it; also what a follower trusts
    /// when it forwards a write to the leader's HTTPS API.
    public var ca: TLSFile?

    public init(certificate: TLSFile? = nil, key: TLSFile? = nil, ca: TLSFile? = nil) {
        self.certificate = certificate
        self.key = key
        self.ca = ca
    }

    /// True when node-to-node connections use mutual TLS.
    public var isEnabled: Bool { certificate != nil }
}

extension ServerConfig {
    /// `https` when the API serves TLS, else `http`.
    public var apiScheme: String { tls.isEnabled ? "https" : "http" }

    /// The TLS settings go together: the first missing partner is the error.
    func validateTLS() throws(ConfigError) {
        switch (tls.certificate, tls.key) {
        case (.some, nil): throw ConfigError("\(tls.certificate!.setting) needs a key too: give --tls-key FILE (config: tls.key)")
        case (nil, .some): throw ConfigError("\(tls.key!.setting) needs a certificate too: give --tls-cert FILE (config: tls.cert)")
        default: break
        }
        if let clientCA = tls.clientCA, tls.certificate == nil {
            throw ConfigError("\(clientCA.setting) applies to HTTPS only: give --tls-cert and --tls-key as well")
        }
        let peer = [("--peer-cert", "cert", peerTLS.certificate), ("--peer-key", "key", peerTLS.key), ("--peer-ca", "ca", peerTLS.ca)]
        let given = peer.filter { $0.2 != nil }
        if !given.isEmpty, given.count < 3 {
            let missing = peer.filter { $0.2 == nil }.map { "\($0.0) FILE (config: peer_tls.\($0.1))" }
            throw ConfigError("mutual TLS between nodes needs --peer-cert, --peer-key and --peer-ca together; also give "
                              + missing.joined(separator: " and "))
        }
    }

    /// `tls: {cert, key, client_ca}` of a config file.
    mutating func loadTLS(_ value: Yams.Node, at place: String) throws(ConfigError) {
        let files = try Self.files(of: value, key: "tls", known: ["cert", "key", "client_ca"], at: place)
        if let file = files["cert"] { tls.certificate = file }
        if let file = files["key"] { tls.key = file }
        if let file = files["client_ca"] { tls.clientCA = file }
    }

    /// `peer_tls: {cert, key, ca}` of a config file.
    mutating func loadPeerTLS(_ value: Yams.Node, at place: String) throws(ConfigError) {
        let files = try Self.files(of: value, key: "peer_tls", known: ["cert", "key", "ca"], at: place)
        if let file = files["cert"] { peerTLS.certificate = file }
        if let file = files["key"] { peerTLS.key = file }
        if let file = files["ca"] { peerTLS.ca = file }
    }

    /// A mapping of file paths; each remembers its place in the config file for later errors.
    private static func files(of value: Yams.Node, key: String, known: [String], at place: String) throws(ConfigError) -> [String: TLSFile] {
        guard let mapping = value.mapping else {
            throw ConfigError("\(place): '\(key)' must be a mapping of \(known.joined(separator: ", ")) to file paths")
        }
        // `place` is "file:line:column"; the file part names the keys below it.
        let file = place.split(separator: ":").first.map(String.init) ?? place
        var result: [String: TLSFile] = [:]
        for (keyNode, fileNode) in mapping {
            let name = keyNode.string ?? ""
            let at = "\(file):\(keyNode.mark?.line ?? 0):\(keyNode.mark?.column ?? 0)"
            guard known.contains(name) else {
                throw ConfigError("\(at): unknown key '\(key).\(name)' (known: \(known.joined(separator: ", ")))")
            }
            guard let path = fileNode.string, !path.isEmpty else {
                throw ConfigError("\(at): '\(key).\(name)' must be a file path")
            }
            result[name] = TLSFile(path, setting: "\(at): \(key).\(name)")
        }
        return result
    }
}

extension MemberAddress {
    /// The same addresses with the API URL's scheme replaced by `scheme`.
    func withAPIScheme(_ scheme: String) -> MemberAddress {
        var copy = self
        if let range = api.range(of: "://") {
            copy.api = scheme + api[range.lowerBound...]
        } else {
            copy.api = "\(scheme)://\(api)"
        }
        return copy
    }
}
