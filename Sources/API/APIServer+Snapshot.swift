import APIModels
import Backup
import Engine
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/snapshot`: a backup of the whole engine state (`BackupFormat`), taken by the
/// leader at a linearizable point and streamed as the file `orchestrator snapshot save`
/// writes.
///
/// An admin operation: when API tokens arrive (docs/api.md, "Security"), this route requires
/// the `admin` role — a backup holds every instance's data.
extension APIServer {
    /// Bytes per body chunk written to the connection.
    static let snapshotChunkBytes = 1 << 20

    func snapshot(_ request: Request) async throws -> Response {
        // Only the leader answers. A follower sends the client to it (307) rather than
        // forwarding: the answer may be far larger than a forwarded answer may be
        // (`forwardResponseBytesMax`) and would cross the network twice.
        if let leader = forwardTarget(request) { return Self.redirect(request, to: leader, node: consensus.health().node) }
        do {
            try await consensus.readBarrier()
        } catch {
            throw APIError.consensus(error, requestID: nil)
        }
        // The state now holds every write committed before the request arrived (the read
        // barrier): a linearizable point. `current()` is an O(1) copy-on-write copy; apply
        // goes on while it is encoded. Health is read after it, so its term is at least the
        // term of every entry the copy holds.
        let state = engine.current()
        let health = consensus.health()
        guard health.role == "leader" else {
            // Leadership moved while the read point was confirmed.
            if let leader = consensus.leaderAPIAddress { return Self.redirect(request, to: leader, node: health.node) }
            throw APIError.noLeader("node \(health.node) no longer leads and no leader is known; retry shortly")
        }
        let members = consensus.clusterInfo().members.map {
            BackupMetadata.Member(id: $0.id, raft: $0.raft, api: $0.api, role: $0.role)
        }
        let metadata = BackupMetadata(
            clusterID: settings.clusterID, index: state.appliedIndex, term: health.term, node: health.node, members: members,
            workflows: state.workflowCount, instances: state.instanceCount, historyEntries: state.historyEntryCount,
            createdAtMillis: clock.nowMillis, serverVersion: ServerVersion.current)
        let encoded = EncodedBackup(metadata: metadata, body: state.snapshot())
        logger.info("streaming a snapshot", metadata: ["index": "\(metadata.index)", "bytes": "\(encoded.byteCount)",
                                                       "instances": "\(metadata.instances)", "sha256": "\(encoded.sha256)"])

        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(settings.clusterID)-\(metadata.index).snap\""
        headers[Self.snapshotIndexHeader] = String(metadata.index)
        headers[Self.snapshotSHA256Header] = encoded.sha256
        let body = ResponseBody(contentLength: encoded.byteCount) { writer in
            try await writer.write(ByteBuffer(bytes: encoded.prefix))
            var offset = 0
            while offset < encoded.body.count {
                let end = min(encoded.body.count, offset + Self.snapshotChunkBytes)
                try await writer.write(ByteBuffer(bytes: encoded.body[offset..<end]))
                offset = end
            }
            try await writer.write(ByteBuffer(bytes: encoded.checksum))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The snapshot's log index, also in the file's metadata.
    static let snapshotIndexHeader = HTTPField.Name("X-Orchestrator-Snapshot-Index")!
    /// The file's trailing SHA-256, also its last 32 bytes.
    static let snapshotSHA256Header = HTTPField.Name("X-Orchestrator-Snapshot-SHA256")!

    /// 307 to the same path on the leader, with a JSON body saying why.
    static func redirect(_ request: Request, to leader: String, node: UInt64) -> Response {
        let base = leader.contains("://") ? leader : "http://" + leader
        let location = base + request.uri.description
        var headers = HTTPFields()
        headers[.location] = location
        let body = Views.error(code: "not_leader",
                               message: "node \(node) is not the leader; the leader at \(base) takes snapshots",
                               details: ["leader_api": .string(base)])
        return JSONResponse.make(status: .temporaryRedirect, body, headers: headers)
    }
}
