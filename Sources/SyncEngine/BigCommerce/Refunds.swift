import Foundation

// `GET /v3/orders/payment_actions/refunds` (store-wide) and `GET /v3/orders/{id}/payment_actions/refunds`.

extension BigCommerceClient {
    /// Store-wide refunds created in `[createdFrom, createdTo]` (BigCommerce's bounds are inclusive), id ascending.
    ///
    /// Dates go out as RFC 3339 UTC, fully percent-encoded (`2026-04-01T00%3A00%3A00%2B00%3A00`). When the reply
    /// carries `meta.pagination`, it says whether the page is the last (`current_page`/`total_pages`, else
    /// `links.next`), so a server that serves fewer records than `limit` is still read to the end; since the spec
    /// leaves `meta` open, without it a page shorter than `limit` is the last (``BCV3Paging``).
    /// Records that cannot be decoded are returned in `rejected` as `refund:<id>`.
    public func refunds(createdFrom: Date, createdTo: Date, page: Int, limit: Int) async throws -> SourcePage<BCRefund> {
        let limit = Self.clampLimit(limit)
        let page = max(1, page)
        let query: [BigCommerceQueryItem] = [
            .init("created:min", BigCommerceDates.iso8601WithOffset(createdFrom), encoding: .strict),
            .init("created:max", BigCommerceDates.iso8601WithOffset(createdTo), encoding: .strict),
            .int("page", page),
            .int("limit", limit),
        ]
        let context = "GET /v3/orders/payment_actions/refunds page \(page)"
        let response = try await get(.v3, "/orders/payment_actions/refunds", query)
        let (data, meta) = try BCBody.readPage(response, context: context).v3Collection(context: context)
        let (records, rejected) = decodeRecords(data, entity: "refund", pathPrefix: "refunds", BigCommerceRefundDecoder.refund)
        for r in rejected {
            logger.warning("BigCommerce refund quarantined: \(r.reason)", ["bc.entity": r.entityKey])
        }
        let isLast = BCV3Paging.isLastPage(meta: meta, count: data.count, limit: limit, page: page)
        return SourcePage(records: records, rejected: rejected, isLastPage: isLast)
    }

    /// Every refund of one order, id ascending (paged to the end, following `meta.pagination` when the reply has it,
    /// see ``BCV3Paging``). A bad record makes the list `.malformed`.
    public func refunds(orderID: Int64) async throws -> [BCRefund] {
        let path = "/orders/\(orderID)/payment_actions/refunds"
        var rows: [JSON] = []
        var page = 1
        while page <= Self.maxPages {
            let response = try await get(.v3, path, [.int("page", page), .int("limit", Self.maxPageSize)], orderID: orderID)
            let (data, meta) = try BCBody.read(response, context: "GET /v3\(path)").v3Collection(context: "GET /v3\(path)")
            rows += data
            if BCV3Paging.isLastPage(meta: meta, count: data.count, limit: Self.maxPageSize, page: page) { break }
            page += 1
        }
        return try decodeAll(rows, entity: "refund", pathPrefix: "refunds", context: "order:\(orderID)", BigCommerceRefundDecoder.refund)
            .sorted { $0.id < $1.id }
    }
}

/// Decoder for one v3 refund. Required: `id`, `order_id`, `created`, `total_amount`. Amounts are JSON numbers,
/// read exactly; `requested_amount` may be null (quantity-based product refunds).
enum BigCommerceRefundDecoder {
    static func refund(_ r: BCFieldReader) throws -> BCRefund {
        var refund = BCRefund(id: try r.requiredInt64("id"), orderID: try r.requiredInt64("order_id"),
                              created: try r.requiredDate("created"), totalAmount: try r.requiredDecimal("total_amount"))
        refund.reason = try r.string("reason")
        refund.totalTax = try r.decimal("total_tax")
        refund.items = try r.objects("items").map { i in
            guard let type = try i.optionalString("item_type"), !type.isEmpty else {
                throw JSONError.field(path: "\(i.path).item_type", problem: "missing")
            }
            var item = BCRefundItem(itemType: type, itemID: try i.requiredInt64("item_id"))
            item.quantity = try i.optionalDecimal("quantity")
            item.requestedAmount = try i.optionalDecimal("requested_amount")
            item.reason = try i.string("reason")
            return item
        }
        refund.payments = try r.objects("payments").map { p in
            var payment = BCRefundPayment(id: try p.requiredInt64("id"), amount: try p.requiredDecimal("amount"))
            payment.providerID = try p.string("provider_id")
            payment.offline = try p.bool("offline")
            payment.isDeclined = try p.bool("is_declined")
            return payment
        }
        return refund
    }
}
