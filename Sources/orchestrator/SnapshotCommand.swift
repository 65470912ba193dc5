import ArgumentParser
import Backup
import Client
import Foundation
import Server

/// `orchestrator snapshot save|inspect|restore`: backups with the semantics of
/// `etcdctl snapshot save` / `etcdutl snapshot restore` (docs/operations.md, "Backup and
/// restore"; the file format is `BackupFormat`).
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save a backup of the cluster's state, inspect one, or restore one into a new cluster.",
        discussion: """
            A backup is one file: the whole engine state (workflows, instances, histories, \
            pending hook runs, cron state) at one log index, taken by the leader at a \
            linearizable point, with a SHA-256 over all of it.

            Examples:
              orchestrator snapshot save backup.snap --server http://127.0.0.1:8081
              orchestrator snapshot inspect backup.snap
              orchestrator snapshot restore backup.snap --data-dir data/restored
              orchestrator serve --data-dir data/restored --cluster-id <the id restore printed>
            """,
        subcommands: [Save.self, Inspect.self, Restore.self]
    )

    /// Prints `error: FILE: …` and exits 2: a damaged, truncated or foreign file (an I/O
    /// error names its own path).
    static func refuse(_ path: String, _ error: BackupFileError) -> ExitCode {
        if case .io = error { printError("error: \(error)") } else { printError("error: \(path): \(error)") }
        return ExitCode(ExitStatus.usage)
    }

    /// The object `save --json` and `inspect --json` print.
    static func json(file: String, _ backup: VerifiedBackup) -> JSONValue {
        .object(["file": .string(file), "bytes": .number(Double(backup.fileBytes)), "sha256": .string(backup.sha256),
                 "format_version": .number(Double(backup.formatVersion)), "metadata": backup.metadata.json])
    }

    /// `5 instances, 1 workflow, 12 history entries`.
    static func counts(_ metadata: BackupMetadata) -> String {
        "\(metadata.instances) instance\(metadata.instances == 1 ? "" : "s"), "
            + "\(metadata.workflows) workflow\(metadata.workflows == 1 ? "" : "s"), "
            + "\(metadata.historyEntries) history entr\(metadata.historyEntries == 1 ? "y" : "ies")"
    }

    /// `12.5 MiB`, `980.3 KiB`, `312 bytes`.
    static func size(_ bytes: UInt64) -> String {
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / Double(1 << 10)) }
        return "\(bytes) bytes"
    }

    // MARK: save

    /// `orchestrator snapshot save FILE [--server URL]`
    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stream a consistent snapshot from the leader into FILE.",
            discussion: """
                Any node will do: a follower sends the request on to the leader, which takes \
                the snapshot after a read barrier, so it holds every write acknowledged before \
                the command started. The file is written as FILE.part, fsynced, read back and \
                checked, then renamed to FILE (an existing FILE is replaced only by a complete, \
                checked one). Large snapshots print progress on standard error.

                Exit status: 0 saved, 2 FILE cannot be written, 3 cluster unavailable or the \
                answer was damaged.

                Example:
                  orchestrator snapshot save /backups/orchestrator-$(date +%F).snap --server http://10.0.0.1:8080
                """
        )

        @Argument(help: ArgumentHelp("Where to write the backup.", valueName: "file"))
        var file: String

        @OptionGroup var options: ClientOptions

        /// Longest wait for the answer's next bytes, the first included.
        static let firstByteWaitSeconds: Double = 60

        func run() async throws {
            let sink: SnapshotFileSink
            do throws(BackupFileError) {
                sink = SnapshotFileSink(file: try PartFile(path: file), showsProgress: !options.json)
            } catch {
                throw SnapshotCommand.refuse(file, error)
            }
            var download: SnapshotDownload?
            do {
                // The leader encodes the whole state before its first byte: give it a minute.
                try await options.withClient(waitSeconds: Save.firstByteWaitSeconds) { client in
                    download = try await client.downloadSnapshot(into: sink)
                }
            } catch {
                sink.file.discard()
                throw error
            }
            let verified: VerifiedBackup
            do throws(BackupFileError) {
                try sink.file.sync()
                verified = try BackupReader.verify(path: sink.file.partPath)
            } catch {
                sink.file.discard()
                if case .io = error { throw SnapshotCommand.refuse(file, error) }
                printError("error: the snapshot received from \(download?.answeredBy ?? options.address) is damaged: \(error)")
                throw ExitCode(ExitStatus.unavailable)
            }
            do throws(BackupFileError) {
                try sink.file.commit()
            } catch {
                sink.file.discard()
                throw SnapshotCommand.refuse(file, error)
            }
            if options.json {
                print(SnapshotCommand.json(file: file, verified).jsonText)
                return
            }
            let metadata = verified.metadata
            print("saved \(file): \(verified.fileBytes) bytes, index \(metadata.index), term \(metadata.term), "
                  + "\(SnapshotCommand.counts(metadata)), sha256 \(verified.sha256) "
                  + "(cluster \(metadata.clusterID), taken by node \(metadata.node))")
        }
    }

    /// Writes a download into a `PartFile`, printing progress for large snapshots.
    final class SnapshotFileSink: SnapshotSink {
        /// Snapshots at least this large print progress, every 10 %.
        static let progressBytesMin: UInt64 = 8 << 20
        let file: PartFile
        let showsProgress: Bool
        private var expected: UInt64?
        /// Tenths of `expected` already reported.
        private var reportedTenths: UInt64 = 0

        init(file: PartFile, showsProgress: Bool) {
            self.file = file
            self.showsProgress = showsProgress
        }

        func begin(expectedBytes: UInt64?) throws {
            try file.reset()
            reportedTenths = 0
            expected = nil
            if showsProgress, let expectedBytes, expectedBytes >= Self.progressBytesMin {
                expected = expectedBytes
                printError("receiving a snapshot of \(SnapshotCommand.size(expectedBytes))")
            }
        }

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            try file.append(bytes)
            guard let expected else { return }
            let tenths = min(10, file.byteCount * 10 / expected)
            guard tenths > reportedTenths else { return }
            reportedTenths = tenths
            printError("  \(SnapshotCommand.size(file.byteCount)) of \(SnapshotCommand.size(expected)) (\(tenths * 10)%)")
        }
    }

    // MARK: inspect

    /// `orchestrator snapshot inspect FILE [--json]`
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a backup's checksum and print what it holds.",
            discussion: """
                Reads the whole file and checks its header and SHA-256 before printing \
                anything; a damaged, truncated or foreign file prints one `error:` line.

                Exit status: 0 intact, 2 damaged or unreadable.

                Example:
                  orchestrator snapshot inspect backup.snap --json | jq .metadata.instances
                """
        )

        @Argument(help: ArgumentHelp("The backup file.", valueName: "file"))
        var file: String

        @Flag(help: "Print one JSON object (keys sorted) instead of a table.")
        var json = false

        func run() async throws {
            let backup: VerifiedBackup
            do throws(BackupFileError) {
                backup = try BackupReader.verify(path: file)
            } catch {
                throw SnapshotCommand.refuse(file, error)
            }
            if json {
                print(SnapshotCommand.json(file: file, backup).jsonText)
                return
            }
            let metadata = backup.metadata
            var rows = [["file", file],
                        ["format", "version \(backup.formatVersion), \(backup.fileBytes) bytes (engine state \(backup.bodyBytes))"],
                        ["sha256", "\(backup.sha256) (checked)"],
                        ["cluster", metadata.clusterID],
                        ["index", "\(metadata.index) (term \(metadata.term))"],
                        ["taken", "\(Timestamp.rfc3339(millis: metadata.createdAtMillis)) by node \(metadata.node), server \(metadata.serverVersion)"],
                        ["workflows", "\(metadata.workflows)"],
                        ["instances", "\(metadata.instances)"],
                        ["history entries", "\(metadata.historyEntries)"]]
            for (position, member) in metadata.members.enumerated() {
                rows.append([position == 0 ? "members" : "", "\(member.id) \(member.role)  raft \(member.raft)  api \(member.api)"])
            }
            if metadata.members.isEmpty { rows.append(["members", "none recorded"]) }
            print(table(rows))
        }
    }

    // MARK: restore

    /// `orchestrator snapshot restore FILE --data-dir DIR …`
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a data directory that starts a NEW cluster from a backup.",
            discussion: """
                Checks FILE, then writes DIR (which must not exist or be empty) for node \
                --node-id of a new cluster: a new cluster id (--cluster-id, else a generated one \
                that is printed), the backup's state installed as the node's snapshot at the \
                backup's index, and a membership of this node and its --peers (default: a \
                one-node cluster of node 1). Start it with `orchestrator serve` and the printed \
                flags; add more nodes with `orchestrator cluster add`. For a multi-node restore, \
                run restore on every node with the same FILE, --cluster-id and --peer list.

                Exit status: 0 restored, 2 a damaged file, a non-empty DIR or bad flags.

                Examples:
                  orchestrator snapshot restore backup.snap --data-dir data/restored
                  orchestrator snapshot restore backup.snap --data-dir data/1 --node-id 1 --cluster-id prod-2 \\
                      --api 10.0.0.1:8080 --raft 10.0.0.1:7080 \\
                      --peer 2=10.0.0.2:7080,10.0.0.2:8080 --peer 3=10.0.0.3:7080,10.0.0.3:8080
                """
        )

        @Argument(help: ArgumentHelp("The backup file.", valueName: "file"))
        var file: String

        @Option(name: .customLong("data-dir"), help: "The data directory to create (must not exist, or be empty).")
        var dataDir: String

        @Option(name: .customLong("node-id"), help: "This node's id in the new cluster (default 1).")
        var nodeID: UInt64 = 1

        @Option(name: .customLong("cluster-id"), help: "The new cluster's id (default: a generated restored-XXXXXXXX).")
        var clusterID: String?

        @Option(name: .long, help: "A member of the new cluster: ID=RAFT_HOST:PORT[,API_HOST:PORT]. Repeat for each.")
        var peer: [String] = []

        @Option(name: .long, help: "This node's HTTP API address in the new cluster (default 127.0.0.1:8080, as serve).")
        var api: String?

        @Option(name: .long, help: "This node's Raft address in the new cluster (default 127.0.0.1:7080, as serve).")
        var raft: String?

        func run() async throws {
            let (backup, body): (VerifiedBackup, [UInt8])
            do throws(BackupFileError) {
                (backup, body) = try BackupReader.read(path: file)
            } catch {
                throw SnapshotCommand.refuse(file, error)
            }
            let generated = clusterID == nil
            var config = ServerConfig()
            config.nodeID = nodeID
            config.clusterID = clusterID ?? "restored-\(UUID().uuidString.prefix(8).lowercased())"
            config.dataDirectory = dataDir
            let restored: SnapshotRestore.Restored
            do throws(ConfigError) {
                if let api {
                    guard let address = ServerConfig.parseAddress(api) else { throw ConfigError("--api '\(api)' is not host:port") }
                    config.apiAddress = address
                }
                if let raft {
                    guard let address = ServerConfig.parseAddress(raft) else { throw ConfigError("--raft '\(raft)' is not host:port") }
                    config.raftAddress = address
                }
                for text in peer {
                    let (id, address) = try ServerConfig.parsePeer(text)
                    config.peers[id] = address
                }
                let metadata = backup.metadata
                restored = try SnapshotRestore.restore(
                    SnapshotRestore.Source(engineSnapshot: body, index: metadata.index, term: metadata.term,
                                           workflows: metadata.workflows, instances: metadata.instances,
                                           historyEntries: metadata.historyEntries),
                    into: config)
            } catch {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
            let metadata = backup.metadata
            print("restored \(file) (cluster \(metadata.clusterID) at index \(metadata.index): \(SnapshotCommand.counts(metadata))) into \(dataDir)")
            print("new cluster: \(config.clusterID)\(generated ? " (generated)" : ""), voters \(restored.voters.map(String.init).joined(separator: ", "))")
            var serve = ["orchestrator", "serve", "--data-dir", dataDir, "--cluster-id", config.clusterID, "--node-id", "\(nodeID)",
                         "--api", "\(config.apiAddress)", "--raft", "\(config.raftAddress)"]
            for text in peer { serve += ["--peer", text] }
            print("start it with: \(serve.joined(separator: " "))")
            if restored.voters.count > 1 {
                print("restore the same file on every other voter with the same --cluster-id and its own --node-id before starting them")
            }
        }
    }
}
