import Foundation
import NIOSSL
import X509

/// A certificate chain and the private key that goes with it, read from PEM files and
/// checked: the files exist and are readable, hold what they should, the key belongs to the
/// first certificate, and that certificate is valid now.
///
/// ```swift
/// let identity = try TLSIdentity.load(certificate: TLSFile("node-1.pem", setting: "--tls-cert"),
///                                     key: TLSFile("node-1-key.pem", setting: "--tls-key"))
/// ```
public struct TLSIdentity: Sendable {
    /// Leaf first, then any intermediates, as in the file.
    public let certificateChain: [NIOSSLCertificate]
    public let privateKey: NIOSSLPrivateKey
    /// The leaf, parsed (names, validity, node ids).
    public let leaf: Certificate

    /// The node ids the leaf certificate carries (`NodeIdentity`).
    public var nodeIDs: [UInt64] { NodeIdentity.nodeIDs(in: leaf) }

    /// Reads and checks both files; every problem is one ``TLSFileError`` naming the file.
    public static func load(certificate: TLSFile, key: TLSFile, now: Date = Date()) throws(TLSFileError) -> TLSIdentity {
        let (chain, parsed) = try PEMFiles.certificates(certificate)
        let leaf = parsed[0]
        try PEMFiles.checkValidity(leaf, of: certificate, now: now)
        let keyText = try PEMFiles.text(of: key)
        guard keyText.contains("PRIVATE KEY-----") else {
            let hint = keyText.contains("BEGIN CERTIFICATE") ? " (this is a certificate: give its key file)" : ""
            throw key.error("no PEM private key in it (expected a -----BEGIN PRIVATE KEY----- block)\(hint)")
        }
        if keyText.contains("ENCRYPTED") {
            throw key.error("the private key is encrypted; give an unencrypted key (mode 0600)")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
        } catch {
            throw key.error("not a usable PEM private key (\(error))")
        }
        // The key must be the leaf's: compared as public keys where swift-certificates reads the
        // key type (EC and RSA PKCS#8 / SEC1 / PKCS#1 do); others are left to the handshake.
        if let x509Key = try? Certificate.PrivateKey(pemEncoded: keyText), x509Key.publicKey != leaf.publicKey {
            throw key.error("this key does not belong to the certificate in \(certificate.path) (its public key differs)")
        }
        return TLSIdentity(certificateChain: chain, privateKey: privateKey, leaf: leaf)
    }
}

/// Reading PEM files with errors a user can act on.
public enum PEMFiles {
    /// The file's text; errors name the file and say whether it is missing, a directory or unreadable.
    static func text(of file: TLSFile) throws(TLSFileError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
            throw file.error("no such file")
        }
        guard !isDirectory.boolValue else { throw file.error("is a directory, not a PEM file") }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw file.error("cannot read it (permission denied?)")
        }
        guard data.count <= 1 << 20 else { throw file.error("is \(data.count) bytes; a PEM file of certificates is far smaller") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Every certificate in the file, in order, as NIOSSL and X.509 values; at least one.
    static func certificates(_ file: TLSFile) throws(TLSFileError) -> ([NIOSSLCertificate], [Certificate]) {
        let text = try text(of: file)
        guard text.contains("-----BEGIN CERTIFICATE-----") else {
            let hint = text.contains("PRIVATE KEY-----") ? " (this is a private key: give the certificate file)" : ""
            throw file.error("no PEM certificate in it (expected a -----BEGIN CERTIFICATE----- block)\(hint)")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw file.error("not a valid PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw file.error("no PEM certificate in it (expected a -----BEGIN CERTIFICATE----- block)") }
        var parsed: [Certificate] = []
        for (position, certificate) in chain.enumerated() {
            do {
                parsed.append(try Certificate(derEncoded: try certificate.toDERBytes()))
            } catch {
                throw file.error("certificate \(position + 1) cannot be parsed as X.509 (\(error))")
            }
        }
        return (chain, parsed)
    }

    /// The CA certificates of a trust file (`--peer-ca`, `--tls-client-ca`, `--cacert`).
    public static func trustRoots(_ file: TLSFile, now: Date = Date()) throws(TLSFileError) -> [NIOSSLCertificate] {
        let (chain, parsed) = try certificates(file)
        for certificate in parsed {
            if let constraints = try? certificate.extensions.basicConstraints, case .notCertificateAuthority = constraints {
                throw file.error("holds a certificate that is not a CA (\(certificate.subject)); give the CA certificate (ca.pem)")
            }
            try checkValidity(certificate, of: file, now: now)
        }
        return chain
    }

    /// Errors for a certificate that is not valid at `now` (clock skew of 5 minutes allowed at the start).
    static func checkValidity(_ certificate: Certificate, of file: TLSFile, now: Date) throws(TLSFileError) {
        if certificate.notValidAfter < now {
            throw file.error("the certificate (\(certificate.subject)) expired on \(certificate.notValidAfter); issue a new one")
        }
        if certificate.notValidBefore > now.addingTimeInterval(300) {
            throw file.error("the certificate (\(certificate.subject)) is not valid before \(certificate.notValidBefore) (check the clock)")
        }
    }
}
