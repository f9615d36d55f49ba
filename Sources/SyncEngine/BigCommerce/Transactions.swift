import Foundation

// `GET /v3/orders/{id}/transactions`.

extension BigCommerceClient {
    /// Every payment record of the order (`{data, meta}`; 204 = none), following `meta.pagination` when there
    /// is more than one page. A record that cannot be decoded makes the list `.malformed` (payments are money).
    public func transactions(orderID: Int64) async throws -> [BCTransaction] {
        let path = "/orders/\(orderID)/transactions"
        var rows: [JSON] = []
        var page = 1
        while page <= Self.maxPages {
            let query: [BigCommerceQueryItem] = page == 1 ? [] : [.int("page", page)]
            let response = try await get(.v3, path, query, orderID: orderID)
            let (data, meta) = try BCBody.read(response, context: "GET /v3\(path)").v3Collection(context: "GET /v3\(path)")
            rows += data
            let pagination = meta?["pagination"]
            guard !data.isEmpty, let current = pagination?["current_page"]?.int, let total = pagination?["total_pages"]?.int,
                  current < total else { break }
            page = current + 1
        }
        return try decodeAll(rows, entity: "transaction", pathPrefix: "transactions", context: "order:\(orderID)",
                             BigCommerceTransactionDecoder.transaction)
    }
}

/// Decoder for one v3 transaction. Required: `id`, `order_id` (a string in the API), `event`, `amount` (a JSON
/// number, read exactly), `date_created`, `status`.
enum BigCommerceTransactionDecoder {
    static func transaction(_ r: BCFieldReader) throws -> BCTransaction {
        guard let event = try r.optionalString("event"), !event.isEmpty else {
            throw JSONError.field(path: "\(r.path).event", problem: "missing")
        }
        guard let status = try r.optionalString("status"), !status.isEmpty else {
            throw JSONError.field(path: "\(r.path).status", problem: "missing")
        }
        var t = BCTransaction(id: try r.requiredInt64("id"), orderID: try r.requiredInt64("order_id"), event: event,
                              amount: try r.requiredDecimal("amount"), dateCreated: try r.requiredDate("date_created"),
                              status: status)
        t.method = try r.string("method")
        t.currency = try r.string("currency")
        t.gateway = try r.string("gateway")
        t.gatewayTransactionID = try r.string("gateway_transaction_id")
        t.test = try r.bool("test")
        return t
    }
}
