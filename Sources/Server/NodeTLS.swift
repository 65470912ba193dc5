import API
import ClusterTLS
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// One node's TLS, loaded from its config: the API's reloadable certificate (and the CA its
/// clients must come from), and mutual TLS for Raft. Errors are one-line ``ConfigError``s
/// naming the setting and the file.
struct NodeTLS: Sendable {
    /// The API's certificate and key, re-read on SIGHUP; nil: plain HTTP.
    let api: ReloadableIdentity?
    /// The CA API clients must present a certificate from (`--tls-client-ca`).
    let apiClientCA: [NIOSSLCertificate]?
    /// Mutual TLS between nodes; nil: plain TCP.
    let peer: PeerTLS?

    static func load(_ config: ServerConfig) throws(ConfigError) -> NodeTLS {
        do {
            var api: ReloadableIdentity?
            var clientCA: [NIOSSLCertificate]?
            if let certificate = config.tls.certificate, let key = config.tls.key {
                api = try ReloadableIdentity(certificate: certificate, key: key)
                clientCA = try config.tls.clientCA.map { file throws(TLSFileError) in try PEMFiles.trustRoots(file) }
            }
            var peer: PeerTLS?
            if let certificate = config.peerTLS.certificate, let key = config.peerTLS.key, let ca = config.peerTLS.ca {
                peer = try PeerTLS.load(certificate: certificate, key: key, ca: ca, nodeID: config.nodeID)
            }
            return NodeTLS(api: api, apiClientCA: clientCA, peer: peer)
        } catch {
            throw ConfigError(error.description)
        }
    }

    /// How a follower reaches the leader's HTTPS API: it trusts the cluster CA (`--peer-ca`;
    /// without mutual TLS, the system's roots) and, when API clients must present a
    /// certificate, presents its node certificate (`--peer-cert`).
    var forwarding: ForwardingTLS? {
        guard api != nil else { return nil }
        return ForwardingTLS(TLSConfigurations.client(trustRoots: peer?.clusterCA,
                                                      identity: apiClientCA == nil ? nil : peer?.identity))
    }

    /// The API's server: HTTP/1.1 under the listener's limits (`limiter`), plain or HTTPS
    /// through Hummingbird's `TLSChannel` with a configuration that presents the current
    /// certificate on every handshake (the head deadline then covers the handshake too).
    func serverBuilder(limiter: HTTPConnectionLimiter, api server: APIServer) -> HTTPServerBuilder {
        // Each connection gets its own transition fast path behind the HTTP codec.
        let http = HTTP1Channel.Configuration(additionalChannelHandlers: server.fastPathHandlers())
        guard let api else { return .limitedHTTP1(limiter, configuration: http) }
        let configuration = api.serverConfiguration(clientCA: apiClientCA)
        return HTTPServerBuilder { responder in
            PlainHTTPRefusingChannel(base: try TLSChannel(LimitedHTTP1Channel(responder: responder, limiter: limiter, configuration: http),
                                                          tlsConfiguration: configuration))
        }
    }
}

/// A TLS port's answer to a plain HTTP request, which otherwise would just see the connection
/// drop: a `400` whose JSON error (`tls_required`) says to use https:// (as Go's net/http
/// does). Sits before the TLS handler and leaves the pipeline at the first byte of TLS.
struct PlainHTTPRefusingChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(PlainHTTPRefusalHandler())
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// See ``PlainHTTPRefusingChannel``.
final class PlainHTTPRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let body = #"{"error":{"code":"tls_required","message":"this port speaks TLS: use https:// (and --cacert with the cluster CA)"}}"#
    static let response = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // A TLS record starts with its content type, 0x16 for a handshake; an HTTP request with
        // an upper-case method name.
        if let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
            var answer = context.channel.allocator.buffer(capacity: Self.response.utf8.count)
            answer.writeString(Self.response)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Re-reads the API certificate and key on SIGHUP. New connections get the new ones; a
/// failed reload is logged with its reason, and the previous certificate stays.
struct CertificateReloadService: Service {
    let identity: ReloadableIdentity
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                let loaded = try identity.reload()
                let files = "\(identity.certificateFile.path) and key \(identity.keyFile.path)"
                logger.notice("SIGHUP: reloaded the API certificate \(files) (\(loaded.leaf.subject), valid until \(loaded.leaf.notValidAfter)); new connections use it")
            } catch {
                logger.error("SIGHUP: could not reload the API certificate: \(error); the previous certificate stays in use")
            }
        }
    }
}
