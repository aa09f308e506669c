package api

import (
	"net/http"
	"strconv"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/diff"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
)

// tryRules runs a condition and a transform over an endpoint's last stored events, as a target
// would, without saving anything.
func (s *Server) tryRules(w http.ResponseWriter, r *http.Request) {
	var req apijson.RuleTrial
	if !readJSON(w, r, &req) {
		return
	}
	var results []rules.TrialResult
	var err error
	if req.ResponseRules != nil {
		results, err = s.svc.TryResponses(r.Context(), req.Endpoint, *req.ResponseRules, req.ResponseSeed, req.Limit)
	} else {
		results, err = s.svc.TryRules(r.Context(), req.Endpoint, rules.Trial{When: req.When, Transform: req.Transform}, req.Limit)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	out := apijson.RuleTrialResults{Results: make([]apijson.RuleTrialResult, 0, len(results))}
	for _, res := range results {
		out.Results = append(out.Results, apijson.TrialResultJSON(res))
	}
	writeJSON(w, http.StatusOK, out)
}

// diffEvents compares two stored events: bodies path by path when both are JSON, and headers.
func (s *Server) diffEvents(w http.ResponseWriter, r *http.Request) {
	var ids [2]int64
	for i, name := range []string{"a", "b"} {
		id, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
		if err != nil || id < 1 {
			writeJSON(w, http.StatusBadRequest, apijson.Error{Error: "give the two events to compare as ?a=ID&b=ID", Field: name})
			return
		}
		ids[i] = id
	}
	var evs [2]hook.Event
	for i, id := range ids {
		ev, err := s.svc.History.Event(r.Context(), id)
		if err != nil {
			s.fail(w, err)
			return
		}
		evs[i] = ev
	}
	d := diff.Events(evs[0].Body, evs[1].Body, evs[0].Header, evs[1].Header)
	writeJSON(w, http.StatusOK, apijson.DiffJSON(ids[0], ids[1], d))
}

// getShape is what the endpoint's payloads look like.
func (s *Server) getShape(w http.ResponseWriter, r *http.Request) {
	ep, err := s.svc.Endpoints.Get(r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.ShapeJSON(s.svc.Shapes.Of(ep.ID)))
}
