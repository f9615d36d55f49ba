import Foundation

/// A Zoho data centre: where the OAuth accounts server and the Books API live.
///
/// Invariant: every region has an `https` accounts URL and an `https` API domain of the form
/// `www.zohoapis.<tld>`; Canada's accounts server is `accounts.zohocloud.ca` (not `accounts.zoho.ca`).
public enum ZohoRegion: String, CaseIterable, Sendable {
    case us, eu, `in`, au, jp, ca, cn, sa, uk

    /// Parses a region code as written in the config (`us`, `EU`, ` au `). Nil for anything else.
    public init?(code: String) {
        self.init(rawValue: code.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// The top-level domain of the region's Zoho hosts (`com`, `eu`, `com.au`, …).
    public var topLevelDomain: String {
        switch self {
        case .us: return "com"
        case .eu: return "eu"
        case .in: return "in"
        case .au: return "com.au"
        case .jp: return "jp"
        case .ca: return "ca"
        case .cn: return "com.cn"
        case .sa: return "sa"
        case .uk: return "uk"
        }
    }

    /// The OAuth accounts server (token endpoint lives at `/oauth/v2/token`).
    public var accountsURL: URL {
        switch self {
        case .ca: return URL(string: "https://accounts.zohocloud.ca")!
        default: return URL(string: "https://accounts.zoho.\(topLevelDomain)")!
        }
    }

    /// The default API domain (used when a token response names none, or a Zoho host of another form).
    public var apiDomain: String { "https://www.zohoapis.\(topLevelDomain)" }

    /// True when `host` is one of the Books API hosts of the region table
    /// (`^www\.zohoapis\.(com|eu|in|com\.au|jp|ca|com\.cn|sa|uk)$`).
    public static func isZohoAPIHost(_ host: String) -> Bool {
        let h = host.lowercased()
        let prefix = "www.zohoapis."
        guard h.hasPrefix(prefix) else { return false }
        let tld = String(h.dropFirst(prefix.count))
        return allCases.contains { $0.topLevelDomain == tld }
    }

    /// True for hosts that belong to Zoho but are not Books API hosts (`api.zoho.eu`, `accounts.zoho.com`).
    static func isOtherZohoHost(_ host: String) -> Bool {
        let h = host.lowercased()
        return allCases.contains { r in
            h.hasSuffix(".zoho.\(r.topLevelDomain)") || h.hasSuffix(".zohoapis.\(r.topLevelDomain)")
        } || h.hasSuffix(".zohocloud.ca")
    }

    /// Checks an `api_domain` from a token response and returns the base to send API calls to
    /// (scheme + host [+ port], no trailing slash).
    ///
    /// - A `https://www.zohoapis.<tld>` host of the region table is used as given.
    /// - With `allowCustom` (the local sandbox), any `http`/`https` URL is used as given.
    /// - Another Zoho host (one Zoho example shows `https://api.zoho.eu`), or a Zoho API host with `http` or a port,
    ///   falls back to the region's `https` domain.
    /// - Anything else (a non-Zoho host, a missing scheme) throws ``ZohoConfigurationError/apiDomainRefused(_:)``:
    ///   an access token is never sent to a host the region table does not know.
    /// - A missing `api_domain` (nil or empty) means the region's domain.
    public static func validatedAPIDomain(_ raw: String?, region: ZohoRegion, allowCustom: Bool) throws -> String {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return region.apiDomain }
        var text = raw
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw ZohoConfigurationError.apiDomainRefused(raw)
        }
        if allowCustom, scheme == "http" || scheme == "https" {
            return text
        }
        if scheme == "https", isZohoAPIHost(host), url.port == nil, url.path.isEmpty || url.path == "/" {
            return "https://\(host.lowercased())"
        }
        if scheme == "https" || scheme == "http", isZohoAPIHost(host) || isOtherZohoHost(host) {
            return region.apiDomain
        }
        throw ZohoConfigurationError.apiDomainRefused(host)
    }
}

/// A Zoho setup problem only the user can fix (exit 78: configuration error).
public enum ZohoConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The token response named an API host outside the region table and `zoho.allow_custom_api_domain` is off.
    case apiDomainRefused(String)
    /// `zoho.region` is not one of the known regions.
    case unknownRegion(String)
    /// Several organizations and no `zoho.organization_id`: lists `name (id)` for each.
    case ambiguousOrganization([ZohoOrganization])
    /// `zoho.organization_id` names an organization the token cannot see.
    case organizationNotFound(String, available: [ZohoOrganization])
    /// The token can see no organization at all.
    case noOrganization

    public var description: String {
        func list(_ orgs: [ZohoOrganization]) -> String {
            orgs.map { "\($0.name) (\($0.organizationID))" }.joined(separator: ", ")
        }
        switch self {
        case .apiDomainRefused(let host):
            return "the Zoho token response names API host \(host), which is not a Zoho Books host; check zoho.region "
                + "(set zoho.allow_custom_api_domain = true only for a local sandbox)"
        case .unknownRegion(let r):
            return "unknown zoho.region \(r); use one of " + ZohoRegion.allCases.map(\.rawValue).joined(separator: ", ")
        case .ambiguousOrganization(let orgs):
            return "this Zoho login has \(orgs.count) organizations: \(list(orgs)); set zoho.organization_id to one of them"
        case .organizationNotFound(let id, let orgs):
            return "zoho.organization_id \(id) is not an organization of this Zoho login"
                + (orgs.isEmpty ? "" : "; available: \(list(orgs))")
        case .noOrganization:
            return "this Zoho login has no Zoho Books organization; create one in Zoho Books first"
        }
    }
}
