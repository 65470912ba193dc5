import Crypto
import Foundation
import SwiftASN1
import X509

/// A cluster certificate authority: a self-signed P-256 CA that issues node certificates
/// (`orchestrator certs init`, `orchestrator certs node`).
///
/// Node certificates are for TLS servers and clients both (`serverAuth`, `clientAuth`):
/// a node presents the same one to API clients and to its peers. Their SANs are the
/// hosts given (DNS names and IP addresses) and the node id URI (``NodeIdentity``).
///
/// ```swift
/// let ca = try ClusterCA.create(days: 3650)
/// let node = try ca.issueNode(id: 1, hosts: ["127.0.0.1", "localhost"], days: 825)
/// print(node.certificatePEM, node.privateKeyPEM)
/// ```
public struct ClusterCA: Sendable {
    public let certificate: Certificate
    let signingKey: P256.Signing.PrivateKey

    /// A new CA valid for `days` from `now` (less five minutes, for clocks a little behind).
    public static func create(commonName: String = "orchestrator cluster CA", days: Int, now: Date = Date()) throws -> ClusterCA {
        precondition(days > 0, "days must be positive")
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let name = try DistinguishedName {
            OrganizationName("orchestrator")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return ClusterCA(certificate: certificate, signingKey: key)
    }

    /// The CA of an existing directory (`ca.pem`, `ca-key.pem`).
    public static func load(certificate file: TLSFile, key keyFile: TLSFile) throws(TLSFileError) -> ClusterCA {
        let (_, parsed) = try PEMFiles.certificates(file)
        let certificate = parsed[0]
        guard let constraints = try? certificate.extensions.basicConstraints,
              case .isCertificateAuthority = constraints else {
            throw file.error("is not a CA certificate (no basic constraints CA:true)")
        }
        let text = try PEMFiles.text(of: keyFile)
        let key: P256.Signing.PrivateKey
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw keyFile.error("not a P-256 private key in PEM (the kind `orchestrator certs init` writes): \(error)")
        }
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw keyFile.error("this key does not belong to the CA certificate in \(file.path)")
        }
        return ClusterCA(certificate: certificate, signingKey: key)
    }

    /// PEM of the CA certificate.
    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString + "\n" } }
    /// PEM (PKCS#8) of the CA's private key.
    public var privateKeyPEM: String { signingKey.pemRepresentation + "\n" }

    /// A node certificate and its new key.
    public struct Issued: Sendable {
        public let certificate: Certificate
        public let certificatePEM: String
        public let privateKeyPEM: String
    }

    /// Issues node `id`'s certificate for `hosts` (IPv4/IPv6 literals become IP SANs, anything
    /// else a DNS SAN), valid for `days`.
    public func issueNode(id: UInt64, hosts: [String], days: Int, now: Date = Date()) throws -> Issued {
        precondition(id != 0 && days > 0, "node id and days must be positive")
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        var names: [GeneralName] = []
        for host in hosts {
            if let bytes = Self.ipAddressBytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
            } else {
                names.append(.dnsName(host))
            }
        }
        names.append(.uniformResourceIdentifier(NodeIdentity.uri(for: id)))
        let subject = try DistinguishedName {
            OrganizationName("orchestrator")
            CommonName("orchestrator node \(id)")
        }
        let authorityKeyID = try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let notAfter = min(now.addingTimeInterval(Double(days) * 86_400), certificate.notValidAfter)
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter,
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID ?? nil)
            },
            issuerPrivateKey: Certificate.PrivateKey(signingKey))
        return Issued(certificate: issued, certificatePEM: try issued.serializeAsPEM().pemString + "\n",
                      privateKeyPEM: key.pemRepresentation + "\n")
    }

    /// The 4 or 16 bytes of an IP literal, nil for a name.
    public static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// Host checks shared with the CLI.
public enum ClusterCAHosts {
    /// True for an IPv4 or IPv6 literal.
    public static func isIPAddress(_ host: String) -> Bool { ClusterCA.ipAddressBytes(host) != nil }
}
