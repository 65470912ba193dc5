import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOSSL

/// Sends a write that reached a follower to the leader's API: same method, path, query and
/// body, one hop at most (the forwarded request carries `X-Orchestrator-Forwarded`, and a
/// node never forwards a request that has it), and the same request id (`X-Request-Id`).
/// The leader's answer is passed back as it is.
final class Forwarder: Sendable {
    /// Marks a forwarded request; its value is the forwarding node's id.
    static let forwardedHeader = HTTPField.Name("X-Orchestrator-Forwarded")!
    /// The request id shared by a request, its forwarded copy and its retries.
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!

    private let http: HTTPClient
    private let timeoutMillis: Int64
    private let responseBytesMax: Int

    init(settings: APISettings) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(Int64(settings.forwardConnectTimeoutSeconds * 1_000)),
                                      read: .milliseconds(Int64(settings.forwardTimeoutSeconds * 1_000)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: settings.forwardConnectionsMax)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        // An https:// leader (API TLS): trust the cluster CA, present this node's certificate.
        configuration.tlsConfiguration = settings.forwardTLS?.configuration
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        timeoutMillis = Int64(settings.forwardTimeoutSeconds * 1_000)
        responseBytesMax = settings.forwardResponseBytesMax
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// Forwards `request` (whose body was read into `body`) to the leader at `leader`
    /// (`host:port` or a URL). Connection failures mean the leader never saw it (503
    /// `no_leader`); a failure after sending means the outcome is unknown (504).
    func forward(_ request: Request, body: [UInt8], to leader: String, requestID: String?, node: UInt64) async throws -> Response {
        let base = leader.contains("://") ? leader : "http://" + leader
        var outbound = HTTPClientRequest(url: base + request.uri.description)
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where Forwarder.passedHeaders.contains(field.name) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.headers.replaceOrAdd(name: Forwarder.forwardedHeader.rawName, value: String(node))
        if let requestID { outbound.headers.replaceOrAdd(name: Forwarder.requestIDHeader.rawName, value: requestID) }
        if !body.isEmpty { outbound.body = .bytes(ByteBuffer(bytes: body)) }

        let response: HTTPClientResponse
        do {
            response = try await http.execute(outbound, timeout: .milliseconds(timeoutMillis))
        } catch {
            if Forwarder.isTLSFailure(error) {
                throw APIError.noLeader("the TLS connection to the leader at \(leader) failed (\(error)); followers trust "
                                        + "the CA of --peer-ca when they forward to an https leader")
            }
            if Forwarder.neverSent(error) {
                throw APIError.noLeader("the leader at \(leader) cannot be reached; retry shortly")
            }
            throw APIError.outcomeUnknown("forwarding to the leader at \(leader) failed: \(error)", requestID: requestID)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: responseBytesMax)
        } catch {
            throw APIError.outcomeUnknown("reading the leader's answer failed: \(error)", requestID: requestID)
        }
        var headers = HTTPFields()
        for (name, value) in response.headers {
            guard let fieldName = HTTPField.Name(name), Forwarder.returnedHeaders.contains(fieldName) else { continue }
            headers.append(HTTPField(name: fieldName, value: value))
        }
        return Response(status: HTTPResponse.Status(code: Int(response.status.code)), headers: headers,
                        body: ResponseBody(byteBuffer: buffer))
    }

    /// The token travels with a forwarded request: the leader authenticates it again (it
    /// trusts no identity a follower or client asserts in a header of its own).
    private static let passedHeaders: Set<HTTPField.Name> = [.contentType, .accept, .authorization, Forwarder.requestIDHeader]
    private static let returnedHeaders: Set<HTTPField.Name> = [.contentType, .retryAfter, .wwwAuthenticate, Forwarder.requestIDHeader]

    /// True when the TLS handshake with the leader failed: nothing was sent.
    static func isTLSFailure(_ error: any Error) -> Bool {
        if case NIOSSLError.handshakeFailed = error { return true }
        return false
    }

    /// True when the request certainly did not reach the leader (refused, connect timeout).
    static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return true }
        let name = String(describing: type(of: error))
        let text = String(describing: error)
        return name.contains("NIOConnectionError") || text.contains("connectionRefused") || text.contains("Connection refused")
    }
}
