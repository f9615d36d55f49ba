import Foundation

/// Which BigCommerce API version a path belongs to.
enum BigCommerceAPIVersion: String, Sendable { case v2, v3 }

/// One query parameter, encoded by hand so the wire form is exact and testable.
///
/// `+` in an offset must become `%2B` (a literal `+` is read as a space), so values are percent-encoded with
/// only RFC 3986 unreserved characters left as they are, plus `:` and `,` in ``Encoding/readable`` mode (what
/// BigCommerce's examples show for `sort=date_modified:asc` and `include=a,b`). ``Encoding/strict`` also
/// encodes `:` and `,` (the refunds `created:min` examples: `2020-01-15T01%3A02%3A34%2B01%3A00`).
struct BigCommerceQueryItem: Sendable, Equatable {
    enum Encoding: Sendable { case readable, strict }
    var name: String
    var value: String
    var encoding: Encoding = .readable

    init(_ name: String, _ value: String, encoding: Encoding = .readable) {
        self.name = name
        self.value = value
        self.encoding = encoding
    }

    var encoded: String {
        Self.percentEncode(name, keep: ":") + "=" + Self.percentEncode(value, keep: encoding == .readable ? ":," : "")
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    static func percentEncode(_ text: String, keep extra: String) -> String {
        let keep = unreserved.union(extra.utf8)
        var out = ""
        for byte in text.utf8 {
            if keep.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

extension BigCommerceQueryItem {
    static func int(_ name: String, _ value: Int) -> Self { .init(name, String(value)) }
    static func int64(_ name: String, _ value: Int64) -> Self { .init(name, String(value)) }
}

/// The query string for `items` in order (`a=1&b=2`), empty when there are none.
func bigCommerceQueryString(_ items: [BigCommerceQueryItem]) -> String {
    items.map(\.encoded).joined(separator: "&")
}
