import ArgumentParser
import ClusterTLS
import Foundation
import NIOSSL

/// The TLS options of every verb that talks to a node over `https://`: the CA to trust and
/// a client certificate, each also from the environment.
struct TLSClientOptions: ParsableArguments {
    @Option(name: .customLong("cacert"),
            help: ArgumentHelp("Trust this PEM CA for https:// servers (default: $ORCHESTRATOR_CACERT, else the system's CAs).",
                               valueName: "file"))
    var caCertificate: String?

    @Option(name: .customLong("cert"),
            help: ArgumentHelp("Present this PEM client certificate to https:// servers that require one (default: $ORCHESTRATOR_CERT).",
                               valueName: "file"))
    var certificate: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("The PEM private key of --cert (default: $ORCHESTRATOR_KEY).", valueName: "file"))
    var key: String?

    /// A flag's value, else the environment variable's (empty counts as unset).
    private static func pick(_ flag: String?, _ flagName: String, env: String) -> TLSFile? {
        if let flag, !flag.isEmpty { return TLSFile(flag, setting: flagName) }
        if let value = ProcessInfo.processInfo.environment[env], !value.isEmpty { return TLSFile(value, setting: "$\(env)") }
        return nil
    }

    /// The client TLS configuration, or nil when no option is given (https:// then trusts
    /// the system's CAs). Bad files print one `error:` line and exit 2.
    func configuration() throws -> TLSConfiguration? {
        let ca = Self.pick(caCertificate, "--cacert", env: "ORCHESTRATOR_CACERT")
        let certificate = Self.pick(certificate, "--cert", env: "ORCHESTRATOR_CERT")
        let key = Self.pick(key, "--key", env: "ORCHESTRATOR_KEY")
        guard ca != nil || certificate != nil || key != nil else { return nil }
        do {
            let roots = try ca.map { file throws(TLSFileError) in try PEMFiles.trustRoots(file) }
            var identity: TLSIdentity?
            switch (certificate, key) {
            case (let certificate?, let key?): identity = try TLSIdentity.load(certificate: certificate, key: key)
            case (let certificate?, nil): throw ValidationError("\(certificate.setting) needs --key FILE (or ORCHESTRATOR_KEY) too")
            case (nil, let key?): throw ValidationError("\(key.setting) needs --cert FILE (or ORCHESTRATOR_CERT) too")
            case (nil, nil): break
            }
            return TLSConfigurations.client(trustRoots: roots, identity: identity)
        } catch let error as TLSFileError {
            printError("error: \(error)")
            throw ExitCode(ExitStatus.usage)
        }
    }
}
