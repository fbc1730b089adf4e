import Foundation

/// Where the platform may send requests on a tenant's behalf (webhooks). A tenant names a URL; without this
/// check that URL could reach the platform's own network (loopback, the cloud metadata address, private
/// ranges). The address is checked after DNS, when connecting, and the connection goes to that very address,
/// so a name that resolves differently the second time (DNS rebinding) gains nothing.
public struct OutboundPolicy: Sendable, Equatable {
    /// `http://` URLs; off except for local development.
    public var allowPlainHTTP = false
    /// Loopback, private and other internal addresses; off except for local development.
    public var allowInternalAddresses = false

    public init(allowPlainHTTP: Bool = false, allowInternalAddresses: Bool = false) {
        self.allowPlainHTTP = allowPlainHTTP
        self.allowInternalAddresses = allowInternalAddresses
    }

    /// An operator's local machine: webhooks to a receiver on this machine over plain http.
    public static var localDevelopment: OutboundPolicy { OutboundPolicy(allowPlainHTTP: true, allowInternalAddresses: true) }

    public struct Refused: Error, CustomStringConvertible, Sendable, Equatable {
        /// A stable class for logs and the delivery log: `scheme`, `internal_address`, `unresolvable`, `invalid_url`.
        public var errorClass: String
        public var description: String
    }

    /// The URL's form, at creation: scheme, host, and (for an address written in the URL) its range.
    public func check(url raw: String) -> Refused? {
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return Refused(errorClass: "invalid_url", description: "must be an absolute https URL")
        }
        guard scheme == "https" || (scheme == "http" && allowPlainHTTP) else {
            return Refused(errorClass: "scheme", description: allowPlainHTTP ? "must be an http or https URL" : "must be an https URL")
        }
        if url.user != nil || url.password != nil {
            return Refused(errorClass: "invalid_url", description: "must not carry a user name or password")
        }
        if !allowInternalAddresses {
            let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if let address = IPAddress(bare), address.isInternal {
                return Refused(errorClass: "internal_address", description: "must not point to a loopback, private, link-local or other internal address")
            }
            // `localhost.` is `localhost`: a trailing dot only makes a name fully qualified.
            var lower = bare.lowercased()
            while lower.hasSuffix(".") { lower.removeLast() }
            if lower == "localhost" || lower.hasSuffix(".localhost") || lower.hasSuffix(".local") || lower.hasSuffix(".internal") || !lower.contains(".") {
                return Refused(errorClass: "internal_address", description: "must name a public host")
            }
        }
        return nil
    }

    /// Resolves `host` and returns the address to connect to; refuses when any address it resolves to is internal.
    public func resolve(host: String) async throws -> String {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses: [IPAddress]
        if let literal = IPAddress(bare) {
            addresses = [literal]
        } else {
            addresses = await Self.lookUp(bare)
        }
        guard let first = addresses.first else {
            throw Refused(errorClass: "unresolvable", description: "\(host) does not resolve")
        }
        if !allowInternalAddresses, addresses.contains(where: \.isInternal) {
            throw Refused(errorClass: "internal_address", description: "\(host) resolves to an internal address")
        }
        return first.text
    }

    /// getaddrinfo on a thread of its own (it blocks).
    static func lookUp(_ host: String) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0 else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(result) }
                var addresses: [IPAddress] = []
                var cursor = result
                while let info = cursor {
                    if let sockaddr = info.pointee.ai_addr {
                        if info.pointee.ai_family == AF_INET {
                            let v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                            addresses.append(.v4(withUnsafeBytes(of: v4) { Array($0) }))
                        } else if info.pointee.ai_family == AF_INET6 {
                            let v6 = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                            addresses.append(.v6(withUnsafeBytes(of: v6) { Array($0) }))
                        }
                    }
                    cursor = info.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}

/// An IPv4 or IPv6 address as bytes, with the ranges a tenant's request must never reach.
public enum IPAddress: Sendable, Equatable {
    case v4([UInt8])
    case v6([UInt8])

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: v6) { Array($0) })
            return
        }
        return nil
    }

    public var text: String {
        switch self {
        case .v4(let b): return b.map(String.init).joined(separator: ".")
        case .v6(let b):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: b) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return String(cString: buffer)
        }
    }

    /// Loopback, private (RFC 1918), CGNAT, link-local, multicast, reserved and documentation ranges;
    /// IPv6 loopback, unspecified, ULA, link-local, site-local, multicast, and IPv4 inside IPv6.
    public var isInternal: Bool {
        switch self {
        case .v4(let b):
            guard b.count == 4 else { return true }
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _): return true
            case (100, 64...127): return true            // CGNAT
            case (169, 254): return true                 // link-local, cloud metadata
            case (172, 16...31): return true
            case (192, 168): return true
            case (192, 0) where b[2] == 0 || b[2] == 2: return true
            case (198, 18...19): return true             // benchmarking
            case (198, 51) where b[2] == 100: return true
            case (203, 0) where b[2] == 113: return true
            case (224...255, _): return true             // multicast, reserved, broadcast
            default: return false
            }
        case .v6(let b):
            guard b.count == 16 else { return true }
            if b[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff { return IPAddress.v4(Array(b[12..<16])).isInternal }
            if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { return IPAddress.v4(Array(b[12..<16])).isInternal }  // NAT64
            if b[0] & 0xfe == 0xfc { return true }                // fc00::/7 unique local
            if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return true } // fe80::/10 link-local
            if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return true } // fec0::/10 site-local
            if b[0] == 0xff { return true }                       // multicast
            if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return true }  // documentation
            return false
        }
    }
}
