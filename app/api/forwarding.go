package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

func (s *Server) listTargets(w http.ResponseWriter, r *http.Request) {
	ts, err := s.svc.Forwarding.Targets(r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := apijson.TargetList{Targets: []apijson.Target{}}
	for _, t := range ts {
		out.Targets = append(out.Targets, apijson.TargetJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// readTargetChange decodes a target change; "sign": null removes re-signing.
func readTargetChange(w http.ResponseWriter, r *http.Request) (hook.TargetChange, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return hook.TargetChange{}, false
	}
	var c hook.TargetChange
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return c, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil && string(fields["sign"]) == "null" {
		c.ClearSign = true
	}
	return c, true
}

func (s *Server) createTarget(w http.ResponseWriter, r *http.Request) {
	c, ok := readTargetChange(w, r)
	if !ok {
		return
	}
	t, err := s.svc.Forwarding.CreateTarget(r.Context(), r.PathValue("id"), c)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, apijson.TargetJSON(t))
}

func (s *Server) getTarget(w http.ResponseWriter, r *http.Request) {
	t, err := s.svc.Forwarding.Target(r.PathValue("tid"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.TargetJSON(t))
}

func (s *Server) patchTarget(w http.ResponseWriter, r *http.Request) {
	c, ok := readTargetChange(w, r)
	if !ok {
		return
	}
	t, err := s.svc.Forwarding.UpdateTarget(r.Context(), r.PathValue("tid"), c)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.TargetJSON(t))
}

func (s *Server) deleteTarget(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Forwarding.DeleteTarget(r.Context(), r.PathValue("tid")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) resumeTarget(w http.ResponseWriter, r *http.Request) {
	t, err := s.svc.Forwarding.ResumeTarget(r.Context(), r.PathValue("tid"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.TargetJSON(t))
}

func (s *Server) reregisterTarget(w http.ResponseWriter, r *http.Request) {
	t, err := s.svc.Forwarding.ReregisterTarget(r.Context(), r.PathValue("tid"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.TargetJSON(t))
}

func deliveryList(ds []hook.Delivery, next int64) apijson.DeliveryList {
	out := apijson.DeliveryList{Deliveries: []apijson.Delivery{}}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, apijson.DeliveryJSON(d))
	}
	if next > 0 {
		n := strconv.FormatInt(next, 10)
		out.Next = &n
	}
	return out
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := hook.DeliveryQuery{TargetID: r.URL.Query().Get("target")}
	for name, dst := range map[string]*int64{"event": &q.EventID, "before": &q.Before} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				writeJSON(w, http.StatusBadRequest, apijson.Error{Error: name + " must be a positive number", Field: name})
				return
			}
			*dst = n
		}
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, apijson.Error{Error: "limit must be a positive number", Field: "limit"})
			return
		}
		q.Limit = min(n, hook.MaxPage)
	}
	if v := r.URL.Query().Get("status"); v != "" {
		st, err := hook.ParseDeliveryStatus(v)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apijson.Error{Error: err.Error(), Field: "status"})
			return
		}
		q.Status = st
	}
	ds, next, err := s.svc.History.Deliveries(r.Context(), q)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, deliveryList(ds, next))
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("did"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusNotFound, "no delivery "+strconv.Quote(r.PathValue("did")))
		return
	}
	d, err := s.svc.History.Delivery(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.DeliveryJSON(d))
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("did"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusNotFound, "no delivery "+strconv.Quote(r.PathValue("did")))
		return
	}
	d, err := s.svc.Forwarding.RetryDelivery(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.DeliveryJSON(d))
}

func (s *Server) retryDeliveries(w http.ResponseWriter, r *http.Request) {
	var req apijson.RetryRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Target == "" {
		writeJSON(w, http.StatusBadRequest, apijson.Error{Error: "give the target whose deliveries to retry", Field: "target"})
		return
	}
	status := hook.DeliveryDeadLetter
	if req.Status != "" {
		st, err := hook.ParseDeliveryStatus(req.Status)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apijson.Error{Error: err.Error(), Field: "status"})
			return
		}
		status = st
	}
	n, err := s.svc.Forwarding.RetryDeliveries(r.Context(), req.Target, status)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.RetryAnswer{Retried: n})
}
