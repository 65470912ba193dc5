import ArgumentParser
import ClusterTLS
import Foundation

/// `orchestrator certs init|node`: a cluster CA and node certificates for TLS.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a cluster CA and node certificates for HTTPS and mutual TLS between nodes.",
        discussion: """
            Certificates are P-256 (ECDSA) and good for TLS servers and clients both. Each node \
            certificate carries its hosts (DNS names and IP addresses) and its node id as the URI \
            SAN orchestrator://node/<id>, which peers check (docs/security.md).

            Examples:
              orchestrator certs init --dir certs --nodes 3
              orchestrator certs init --dir certs --nodes 3 --host node1.internal --host 10.0.0.1 --days 365
              orchestrator certs node --ca-dir certs --node-id 4 --host 10.0.0.4
            """,
        subcommands: [Init.self, Node.self]
    )

    /// Hosts as given, or the defaults; each must be a DNS name or an IP address.
    static func hosts(_ given: [String]) throws -> [String] {
        let hosts = given.isEmpty ? CertificateFiles.defaultHosts : given
        for host in hosts where !isValidHost(host) {
            throw ValidationError("--host '\(host)' is neither a DNS name nor an IP address")
        }
        return hosts
    }

    static func isValidHost(_ host: String) -> Bool {
        if ClusterCAHosts.isIPAddress(host) { return true }
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "*") }
        }
    }

    static func validate(days: Int) throws {
        guard (1...36_500).contains(days) else { throw ValidationError("--days must be between 1 and 36500, not \(days)") }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a cluster CA and a certificate for each of nodes 1…N.",
            discussion: """
                Writes DIR/ca.pem, DIR/ca-key.pem and, per node, DIR/node-<id>.pem and \
                DIR/node-<id>-key.pem (keys with mode 0600). Refuses to overwrite any existing file \
                unless --force. Keep ca-key.pem offline once the nodes have their certificates: it is \
                only needed to issue more (orchestrator certs node).

                Examples:
                  orchestrator certs init --dir certs --nodes 3
                  orchestrator certs init --dir /etc/orchestrator/tls --nodes 3 --host orch.example.com --host 10.0.0.1
                """
        )

        @Option(help: "Directory to write the files to (created if missing).")
        var dir: String

        @Option(help: "How many node certificates to issue (ids 1…N, 1 to 99).")
        var nodes: Int

        @Option(help: ArgumentHelp("A DNS name or IP address the nodes are reached at; repeat for several (default: 127.0.0.1 and localhost).",
                                   valueName: "host"))
        var host: [String] = []

        @Option(help: "Validity of the node certificates in days (the CA gets 10 years, or this if longer).")
        var days = CertificateFiles.defaultNodeDays

        @Flag(help: "Replace existing files.")
        var force = false

        func validate() throws {
            guard (1...99).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 99, not \(nodes)") }
            try CertsCommand.validate(days: days)
            _ = try CertsCommand.hosts(host)
        }

        func run() throws {
            let hosts = try CertsCommand.hosts(host)
            do {
                let written = try CertificateFiles.initCluster(directory: dir, nodes: nodes, hosts: hosts, days: days, force: force)
                print("wrote a cluster CA and \(nodes) node certificate\(nodes == 1 ? "" : "s") (hosts: \(hosts.joined(separator: ", ")); valid \(days) days):")
                for path in written { print("  \(path)") }
                print("""
                    node N serves with:
                      --tls-cert \(dir)/node-N.pem --tls-key \(dir)/node-N-key.pem \\
                      --peer-cert \(dir)/node-N.pem --peer-key \(dir)/node-N-key.pem --peer-ca \(dir)/ca.pem
                    clients: export ORCHESTRATOR_CACERT=\(dir)/ca.pem
                    """)
            } catch let error as CertificateFilesError {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            } catch let error as TLSFileError {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
    }

    struct Node: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue one more node certificate from an existing CA (a node joining, or a renewal).",
            discussion: """
                Reads CA-DIR/ca.pem and CA-DIR/ca-key.pem and writes node-<id>.pem and \
                node-<id>-key.pem into --dir (default CA-DIR). Refuses to overwrite them unless --force.

                Examples:
                  orchestrator certs node --ca-dir certs --node-id 4
                  orchestrator certs node --ca-dir certs --node-id 2 --host 10.0.0.2 --dir renewed --force
                """
        )

        @Option(name: .customLong("ca-dir"), help: "The directory holding ca.pem and ca-key.pem.")
        var caDir: String

        @Option(name: .customLong("node-id"), help: "The node id the certificate is for.")
        var nodeID: UInt64

        @Option(help: ArgumentHelp("A DNS name or IP address the node is reached at; repeat for several (default: 127.0.0.1 and localhost).",
                                   valueName: "host"))
        var host: [String] = []

        @Option(help: "Where to write the files (default: --ca-dir).")
        var dir: String?

        @Option(help: "Validity in days.")
        var days = CertificateFiles.defaultNodeDays

        @Flag(help: "Replace existing files.")
        var force = false

        func validate() throws {
            guard nodeID > 0 else { throw ValidationError("--node-id must be a positive integer") }
            try CertsCommand.validate(days: days)
            _ = try CertsCommand.hosts(host)
        }

        func run() throws {
            let hosts = try CertsCommand.hosts(host)
            do {
                let written = try CertificateFiles.issueNode(caDirectory: caDir, directory: dir, nodeID: nodeID, hosts: hosts, days: days,
                                                             force: force)
                print("wrote the certificate of node \(nodeID) (hosts: \(hosts.joined(separator: ", ")); valid \(days) days):")
                for path in written { print("  \(path)") }
            } catch let error as CertificateFilesError {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            } catch let error as TLSFileError {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
    }
}
