import NIOCore
import NIOSSL
import Synchronization

/// The API's certificate and key, re-read from their files on demand (`serve` does it on
/// SIGHUP) without a restart. New TLS connections use the newest identity that loaded;
/// connections already open keep theirs.
///
/// It works through `TLSConfiguration.sslContextCallback`: for every handshake, after the
/// client's hello, the callback hands BoringSSL the current chain and key.
///
/// ```swift
/// let identity = try ReloadableIdentity(certificate: cert, key: key)
/// let configuration = identity.serverConfiguration(clientCA: nil)
/// // on SIGHUP:
/// do { let now = try identity.reload(); log("reloaded \(now.leaf.subject)") }
/// catch { log("\(error); keeping the previous certificate") }
/// ```
public final class ReloadableIdentity: Sendable {
    public let certificateFile: TLSFile
    public let keyFile: TLSFile
    private let current: Mutex<TLSIdentity>

    /// Loads both files once; throws what ``TLSIdentity/load(certificate:key:now:)`` throws.
    public init(certificate: TLSFile, key: TLSFile) throws(TLSFileError) {
        certificateFile = certificate
        keyFile = key
        current = Mutex(try TLSIdentity.load(certificate: certificate, key: key))
    }

    /// The identity new connections get.
    public var identity: TLSIdentity { current.withLock { $0 } }

    /// Reads both files again. On success new connections present the new identity, which
    /// is returned; on failure the error says why and the previous identity stays.
    @discardableResult
    public func reload() throws(TLSFileError) -> TLSIdentity {
        let loaded = try TLSIdentity.load(certificate: certificateFile, key: keyFile)
        current.withLock { $0 = loaded }
        return loaded
    }

    /// A server configuration that presents the current identity on every handshake;
    /// `clientCA` as in ``TLSConfigurations/server(identity:clientCA:)``.
    public func serverConfiguration(clientCA: [NIOSSLCertificate]?) -> TLSConfiguration {
        var configuration = TLSConfigurations.server(identity: identity, clientCA: clientCA)
        configuration.sslContextCallback = { [self] _, promise in
            let identity = self.identity
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = identity.certificateChain.map { .certificate($0) }
            override.privateKey = .privateKey(identity.privateKey)
            promise.succeed(override)
        }
        return configuration
    }
}
