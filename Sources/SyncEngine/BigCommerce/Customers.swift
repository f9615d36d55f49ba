import Foundation

// `GET /v3/customers`.

extension BigCommerceClient {
    /// Customers modified in `[modifiedFrom, modifiedTo]`, `date_modified:asc`, with addresses, cursor-paged.
    ///
    /// Date filters are sent as `YYYY-MM-DDTHH:MM:SS` in UTC **without** an offset: that is the only shape the
    /// Customers v3 reference shows, responses are in UTC, and an offset could be read differently from how a
    /// plain value is. Which zone BigCommerce reads a plain value in is not documented, so the caller
    /// (`SyncRunner.pollCustomers`) widens the window by 14 hours on both sides.
    /// The page is the last when `meta.cursor_pagination.links` has no `next` (or, without those links,
    /// `meta.pagination` says so, else the page is shorter than `limit` or than the `per_page` the server reports),
    /// so a server that caps pages below `limit` is still read to the end; it is also the last when it is empty or
    /// gives no cursor to go on with. `nextCursor` is `meta.cursor_pagination.end_cursor` (else the `after` of
    /// `links.next`). Records that cannot be decoded are returned as `customer:<id>`.
    public func customers(modifiedFrom: Date, modifiedTo: Date?, after: String?, limit: Int) async throws -> SourcePage<BCCustomer> {
        let limit = Self.clampLimit(limit)
        var query: [BigCommerceQueryItem] = [.init("date_modified:min", BigCommerceDates.iso8601UTCWithoutOffset(modifiedFrom))]
        if let modifiedTo { query.append(.init("date_modified:max", BigCommerceDates.iso8601UTCWithoutOffset(modifiedTo))) }
        query += [.init("sort", "date_modified:asc"), .init("include", "addresses"), .int("limit", limit)]
        if let after { query.append(.init("after", after, encoding: .strict)) }
        return try await customerPage(query, limit: limit)
    }

    /// The customers with these ids (those that exist), id ascending. Asked in groups of 250 (`id:in`).
    /// A record that cannot be decoded makes the call `.malformed`, naming the customer.
    public func customers(ids: [Int64]) async throws -> [BCCustomer] {
        let unique = Array(Set(ids)).sorted()
        var out: [BCCustomer] = []
        var start = 0
        while start < unique.count {
            let chunk = unique[start..<min(unique.count, start + Self.maxPageSize)]
            start += Self.maxPageSize
            var after: String? = nil
            for _ in 0..<Self.maxPages {
                var query: [BigCommerceQueryItem] = [
                    .init("id:in", chunk.map(String.init).joined(separator: ",")),
                    .init("include", "addresses"),
                    .int("limit", Self.maxPageSize),
                ]
                if let after { query.append(.init("after", after, encoding: .strict)) }
                let page = try await customerPage(query, limit: Self.maxPageSize)
                if let bad = page.rejected.first {
                    throw RemoteError.malformed(.bigcommerce, "\(bad.entityKey): \(bad.reason)")
                }
                out += page.records
                guard !page.isLastPage, let next = page.nextCursor else { break }
                after = next
            }
        }
        return out.sorted { $0.id < $1.id }
    }

    private func customerPage(_ query: [BigCommerceQueryItem], limit: Int) async throws -> SourcePage<BCCustomer> {
        let context = "GET /v3/customers"
        let response = try await get(.v3, "/customers", query)
        let (data, meta) = try BCBody.readPage(response, context: context).v3Collection(context: context)
        let (records, rejected) = decodeRecords(data, entity: "customer", pathPrefix: "customers", BigCommerceCustomerDecoder.customer)
        for r in rejected {
            logger.warning("BigCommerce customer quarantined: \(r.reason)", ["bc.entity": r.entityKey])
        }
        let cursor = meta?["cursor_pagination"]?.object
        var next = cursor?["end_cursor"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        let isLast: Bool
        if data.isEmpty {
            isLast = true
        } else if let links = cursor?["links"]?.object, !links.keys.isEmpty {
            isLast = !BCV3Paging.hasLink(links["next"])
            if next == nil, let link = links["next"]?.string { next = BCV3Paging.queryValue("after", in: link) }
        } else if let perPage = cursor?["per_page"]?.int, perPage > 0 {
            isLast = data.count < min(limit, perPage)
        } else {
            isLast = BCV3Paging.isLastPage(meta: meta, count: data.count, limit: limit, page: 1)
        }
        let more = !isLast && next != nil
        return SourcePage(records: records, rejected: rejected, isLastPage: !more, nextCursor: more ? next : nil)
    }
}

/// Decoder for one v3 customer. Required: `id`, `email`, `date_created`, `date_modified`.
enum BigCommerceCustomerDecoder {
    static func customer(_ r: BCFieldReader) throws -> BCCustomer {
        guard let email = try r.optionalString("email"), !email.isEmpty else {
            throw JSONError.field(path: "\(r.path).email", problem: "missing")
        }
        var c = BCCustomer(id: try r.requiredInt64("id"), email: email,
                           dateCreated: try r.requiredDate("date_created"), dateModified: try r.requiredDate("date_modified"))
        c.firstName = try r.string("first_name")
        c.lastName = try r.string("last_name")
        c.company = try r.string("company")
        c.phone = try r.string("phone")
        c.addresses = try r.objects("addresses").map(address)
        return c
    }

    /// A v3 customer address (`address1`, `state_or_province`, `postal_code`, `country_code`).
    static func address(_ r: BCFieldReader) throws -> BCAddress {
        var a = BCAddress()
        a.firstName = try r.string("first_name")
        a.lastName = try r.string("last_name")
        a.company = try r.string("company")
        a.street1 = try r.string("address1")
        a.street2 = try r.string("address2")
        a.city = try r.string("city")
        a.state = try r.string("state_or_province")
        a.zip = try r.string("postal_code")
        a.country = try r.string("country")
        a.countryISO2 = try r.string("country_code")
        a.phone = try r.string("phone")
        return a
    }
}
