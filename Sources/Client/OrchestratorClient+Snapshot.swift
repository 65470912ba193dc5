import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where `OrchestratorClient.downloadSnapshot(into:)` puts the bytes it receives (the CLI
/// writes them to `FILE.part`). Used from the calling task only.
public protocol SnapshotSink: AnyObject {
    /// An attempt's answer starts: forget whatever an earlier attempt wrote. `expectedBytes`
    /// is the answer's `Content-Length`, when it has one.
    func begin(expectedBytes: UInt64?) throws
    /// The next bytes of the answer, in order.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// An error of the sink, told apart from the network's.
private struct SinkFailure: Error {
    let underlying: any Error
}

/// What a snapshot download received.
public struct SnapshotDownload: Sendable, Hashable {
    /// Bytes received (and written to the sink) in the attempt that succeeded.
    public var bytes: UInt64
    /// The node that answered: the leader, after following a follower's redirect.
    public var answeredBy: String
}

extension OrchestratorClient {
    /// Redirects followed in one attempt: a follower points at the leader, which may itself have
    /// just lost leadership.
    static let snapshotRedirectsMax = 3

    /// `GET /v1/snapshot`: streams the leader's backup file into `sink`. A follower's 307 is
    /// followed to the leader. Unavailable or busy answers and connections lost midway are
    /// retried from the start (`sink.begin` is called again) within `configuration.retry`; a
    /// read is safe to repeat. The exchange may take up to `deadlineSeconds` (a large state);
    /// `configuration.requestTimeoutSeconds` still bounds every wait for the next bytes.
    public func downloadSnapshot(into sink: some SnapshotSink, deadlineSeconds: Double = 3_600) async throws -> SnapshotDownload {
        try await configuration.retry.run(shouldRetry: { $0.isRetryable }) {
            try await snapshotAttempt(into: sink, deadlineSeconds: deadlineSeconds)
        }
    }

    private func snapshotAttempt(into sink: some SnapshotSink, deadlineSeconds: Double) async throws -> SnapshotDownload {
        var url = baseURL + "/v1/snapshot"
        var node = baseURL
        for _ in 0...Self.snapshotRedirectsMax {
            var request = HTTPClientRequest(url: url)
            if let token = configuration.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            request.method = .GET
            request.headers.add(name: "Accept", value: "application/octet-stream")
            do {
                let response = try await http.execute(request, timeout: .milliseconds(Int64(deadlineSeconds * 1_000)))
                let status = Int(response.status.code)
                if status == 307 || status == 308, let location = response.headers.first(name: "Location") {
                    _ = try? await response.body.collect(upTo: 1 << 20)
                    url = location
                    node = location.components(separatedBy: "/v1/").first ?? location
                    continue
                }
                guard status == 200 else {
                    var buffer = try await response.body.collect(upTo: configuration.responseBytesMax)
                    let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                    let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
                    _ = try Self.decode(status: status, body: bytes, retryAfterSeconds: retryAfter, as: Empty.self)
                    throw ClientError.server(status: status, body: String(decoding: bytes, as: UTF8.self))
                }
                let expected = response.headers.first(name: "Content-Length").flatMap { UInt64($0) }
                do { try sink.begin(expectedBytes: expected) } catch { throw SinkFailure(underlying: error) }
                var received: UInt64 = 0
                for try await chunk in response.body {
                    do { try chunk.withUnsafeReadableBytes { try sink.write($0) } } catch { throw SinkFailure(underlying: error) }
                    received += UInt64(chunk.readableBytes)
                }
                if let expected, received != expected {
                    throw ClientError.unavailable(code: "connection_failed",
                                                  message: "\(node): the answer ended after \(received) of \(expected) bytes")
                }
                return SnapshotDownload(bytes: received, answeredBy: node)
            } catch let failure as SinkFailure {
                // The sink failed (a full disk, say): not the server's doing, and not retried.
                throw failure.underlying
            } catch let error as ClientError {
                throw error
            } catch {
                // Refused, reset or timed out: a read, so safe to try again from the start.
                throw ClientError.unavailable(code: "connection_failed", message: "\(node): \(Self.describe(error))")
            }
        }
        throw ClientError.server(status: 307, body: "more than \(Self.snapshotRedirectsMax) redirects from \(baseURL); is the leader changing?")
    }
}
