package msgraph

import (
	"context"
	"fmt"
	"net/http"
)

// page is one page of a Graph collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// listPages sends req and follows @odata.nextLink until it is absent, giving
// each page to fn. The headers of req (ConsistencyLevel, Prefer) go with every
// page.
func listPages[T any](ctx context.Context, c *Client, req *request, fn func([]T) error) error {
	seen := map[string]bool{}
	for {
		var p page[T]
		if _, err := c.call(ctx, req, &p); err != nil {
			return err
		}
		if err := fn(p.Value); err != nil {
			return err
		}
		if p.NextLink == "" {
			return nil
		}
		if seen[p.NextLink] {
			// A server that hands out the same link again would keep us
			// here forever.
			return fmt.Errorf("graph: %s %s: @odata.nextLink repeats itself", req.method, routeTemplate(req.path))
		}
		seen[p.NextLink] = true
		path, rawQuery, err := c.resolveLink(p.NextLink)
		if err != nil {
			return err
		}
		req = &request{method: http.MethodGet, path: path, rawQuery: rawQuery, header: req.header, replayable: true, readOnly: true}
	}
}

// listAll collects every page of req.
func listAll[T any](ctx context.Context, c *Client, req *request) ([]T, error) {
	var all []T
	err := listPages(ctx, c, req, func(p []T) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}
