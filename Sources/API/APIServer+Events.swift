import APIModels
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// `GET /v1/events` and `GET /v1/stats`: what a dashboard watches (docs/api.md).
extension APIServer {
    /// `GET /v1/stats[?stale=true]` → counts per workflow and state, with the applied index
    /// they are as of.
    func stats(_ request: Request) async throws -> Response {
        for key in request.uri.queryParameters.map(\.key) where key != "stale" {
            throw APIError.invalidField(String(key), "unknown query parameter; use stale")
        }
        try await readBarrier(request)
        let (counts, appliedIndex) = engine.instanceCountsWithIndex()
        return JSONResponse.make(Views.stats(node: consensus.health().node, appliedIndex: appliedIndex, counts: counts,
                                             workflows: engine.workflowSummaries()))
    }

    /// `GET /v1/events`: Server-Sent Events from this node's `EventHub`. A `Last-Event-ID`
    /// header (or `?last_event_id=`, for clients that cannot set headers) resumes after that
    /// log index.
    func events(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        for key in query.map(\.key) where key != "last_event_id" {
            throw APIError.invalidField(String(key), "unknown query parameter; use last_event_id (or the Last-Event-ID header)")
        }
        var lastEventID: UInt64?
        if let text = request.headers[Self.lastEventIDHeader] ?? query["last_event_id"].map(String.init) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let value = UInt64(trimmed) else {
                throw APIError.invalidField("Last-Event-ID", "must be the id of an event received before (a log index), not '\(text.prefix(40))'")
            }
            lastEventID = value
        }
        guard let start = eventHub.connect(lastEventID: lastEventID) else {
            throw APIError(status: .serviceUnavailable, code: "stopping", message: "this node is stopping; connect to another")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // nginx buffers responses unless told not to; a buffered stream is not live.
        headers[Self.accelBufferingHeader] = "no"
        let hub = eventHub
        let settings = settings
        let node = consensus.health()
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let heartbeatDue = HeartbeatFlag()
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(settings.eventsHeartbeatSeconds))
                    heartbeatDue.set()
                    hub.wake(start.id)
                }
            }
            defer {
                ticker.cancel()
                hub.disconnect(start.id)
            }
            try await withGracefulShutdownHandler {
                try await Self.stream(start, hub: hub, settings: settings, node: node, heartbeatDue: heartbeatDue, to: &writer)
            } onGracefulShutdown: {
                hub.disconnect(start.id)
            }
            try await writer.finish(nil)
        })
    }

    static let lastEventIDHeader = HTTPField.Name("Last-Event-ID")!
    static let accelBufferingHeader = HTTPField.Name("X-Accel-Buffering")!

    /// Writes a stream until its registration ends (the client went away, the server stops)
    /// or it falls out of the ring (`dropped`). At most one write per `eventsFlushMillis`,
    /// each of at most `eventsWriteEventsMax` events.
    private static func stream(_ start: EventHub.Start, hub: EventHub, settings: APISettings, node: NodeHealth,
                               heartbeatDue: HeartbeatFlag, to writer: inout any ResponseBodyWriter) async throws {
        var opening = ByteBuffer(string: ": orchestrator events\nretry: 2000\n\n")
        var current = EventHub.format(event: "leader", id: nil,
                                      data: LeaderEvent(node: node.node, leader: node.leader, term: node.term).json)
        opening.writeBuffer(&current)
        if var reset = start.reset { opening.writeBuffer(&reset) }
        try await writer.write(opening)
        var seq = start.seq
        var lastSentIndex = start.skipThroughIndex
        for await _ in start.wakes {
            var chunk = ByteBuffer()
            if heartbeatDue.take() { chunk.writeString(": heartbeat\n\n") }
            var full = true
            while full {
                switch hub.read(from: seq, limit: settings.eventsWriteEventsMax) {
                case .overwritten:
                    let notice = EventNotice(reason: "this stream fell more than \(hub.capacity) events behind (the client reads too "
                                             + "slowly); reconnect with Last-Event-ID and refetch", index: lastSentIndex)
                    var dropped = EventHub.format(event: "dropped", id: nil, data: notice.json)
                    chunk.writeBuffer(&dropped)
                    try await writer.write(chunk)
                    return
                case .events(let events, let next):
                    full = events.count == settings.eventsWriteEventsMax
                    seq = next
                    for event in events {
                        if let index = event.index {
                            if index <= start.skipThroughIndex { continue }
                            lastSentIndex = index
                        }
                        var text = event.text
                        chunk.writeBuffer(&text)
                    }
                    if full {
                        try await writer.write(chunk)
                        chunk = ByteBuffer()
                    }
                }
            }
            if chunk.readableBytes > 0 { try await writer.write(chunk) }
            // Let more arrive before the next write (wakes meanwhile coalesce into one).
            try await Task.sleep(for: .milliseconds(settings.eventsFlushMillis))
        }
    }
}

/// Set by a stream's ticker, taken by the stream: a heartbeat comment is due.
final class HeartbeatFlag: Sendable {
    private let due = Atomic<Bool>(false)

    func set() { due.store(true, ordering: .relaxed) }

    /// Whether a heartbeat was due; clears it.
    func take() -> Bool { due.exchange(false, ordering: .relaxed) }
}
