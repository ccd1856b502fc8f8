-- 0018_search.sql - search by word starts and word forms (issue 13): "ecz"
-- finds "eczema", "prescriptions" finds "prescription", "allergies" finds
-- "allergy". What a search matches, and its snippet, are decided here, by
-- PostgreSQL's own text search; src/page_search.c runs them.

-- Each message's words twice: as written (lowercased: the 'simple'
-- configuration), which a word start matches, and as English stems (the
-- 'english' configuration), which any form of the word matches: "results",
-- "result" and "resulting" all stem to "result". Without positions
-- (strip): a search needs only which words a message has. PostgreSQL 15
-- cannot change a generated column's expression, so the column is made
-- anew (the table is rewritten once; its old index goes with it).
ALTER TABLE messages DROP COLUMN search;
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS
	(strip(to_tsvector('simple', coalesce(subject, '') || ' ' || body)
	       || to_tsvector('english', coalesce(subject, '') || ' ' || body))) STORED;

-- A search runs over the viewer's received or sent messages, so the text
-- index holds each message's inbox and outbox too (btree_gin: uuid keys
-- in a GIN index). A rare word is then found in one index scan that meets
-- the viewer's box inside the index, instead of a bitmap of all the box's
-- messages ANDed with the word's. (Its cost estimate also counts the
-- boxes' keys, so that a word start does not look dearer than walking the
-- whole box: PostgreSQL prices a start by its share of the index's keys.)
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_search ON messages USING gin (inbox_id, outbox_id, search);

-- The other way, for a common word: walking the viewer's received
-- messages newest first, archived or not, until enough match (the sent
-- ones walk messages_outbox). IF NOT EXISTS: the conversations migration
-- (0017) makes the same index where it drops messages_inbox, and this one
-- must run with it or without it.
CREATE INDEX IF NOT EXISTS messages_received ON messages (inbox_id, created_at DESC, id DESC);

-- tsquery's own AND and OR (the && and || operators) as aggregates: the
-- queries below are put together from lexemes, never from typed text.
CREATE AGGREGATE search_and(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);
CREATE AGGREGATE search_or(tsquery) (SFUNC = tsquery_or, STYPE = tsquery);

-- A lexeme as a one-operand tsquery, with `suffix` after it: '' (the word
-- exactly) or ':*' (words starting with it). The lexeme is quoted by
-- PostgreSQL itself: a one-lexeme tsvector's text is the lexeme in single
-- quotes with ' and \ escaped, which is how tsquery's input reads a quoted
-- operand, so no character of it (quotes, &, |, !, :, parentheses,
-- backslashes) can act as an operator. The suffix is always a constant of
-- the callers below.
CREATE FUNCTION search_term(lexeme text, suffix text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT (array_to_tsvector(ARRAY[lexeme])::text || suffix)::tsquery
$$;

-- The words of a search text, each as a tsquery: a word that starts with
-- it or has its English stem, the stem followed by `stem_suffix` ('' the
-- stem exactly, ':*' a start). The words are the lexemes the 'simple'
-- configuration finds in the text, once each (so "x-ray" gives x-ray, x
-- and ray, and punctuation and operators nothing); a stop word such as
-- "the" has no stem, and a word that is its own stem needs none.
CREATE FUNCTION search_words(q text, stem_suffix text) RETURNS SETOF tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN stem IS NULL THEN search_term(w, ':*')
		    ELSE search_term(w, ':*') || search_term(stem, stem_suffix) END
	FROM unnest(tsvector_to_array(to_tsvector('simple', q))) w,
	     LATERAL (SELECT nullif((ts_lexize('english_stem', w))[1], w) AS stem) s
$$;

-- What search text `q` finds (marks false): every word, each as a start
-- or by its stem ("prescriptions": prescriptions:* | prescript); NULL when
-- the text has no words (it then finds nothing). Or (marks true) what a
-- snippet marks: any word of a message that starts with a search word or
-- with its stem, as ts_headline reads a message with one configuration,
-- 'simple', which sees the words as written, not their stems. That marks
-- the forms a search finds by their stem ("prescription" for
-- "prescriptions") and, only in a message found anyway, a few more
-- ("testosterone" beside "tests"); a form whose stem is not its start
-- ("allergy" for "allergies") is found but not marked.
--
-- Immutable, so the planner computes it from the text it is given (once
-- per search) and weighs the query by the column's statistics
-- (page_search.c plans each search for its words). PL/pgSQL, not SQL,
-- because the planner runs it for every search: a PL/pgSQL function keeps
-- its statements' plans for the connection's lifetime, where an SQL one
-- would be planned anew each time.
CREATE FUNCTION search_query(q text, marks boolean) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	IF marks THEN
		RETURN (SELECT search_or(t) FROM search_words(q, ':*') t);
	END IF;
	RETURN (SELECT search_and(t) FROM search_words(q, '') t);
END
$$;

-- The tokens of a text that are words, numbers and the like, in order:
-- without spaces, punctuation and HTML-like tags (which ts_headline drops
-- or turns into a space).
CREATE FUNCTION search_tokens(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(p.token ORDER BY n), '{}')
	FROM ts_parse('default', t) WITH ORDINALITY p(tokid, token, n)
	WHERE p.tokid NOT IN (12, 13)	-- blank, tag (ts_token_type('default'))
$$;

-- search_cut (below) for a passage not found in `doc` as it is: its words
-- are compared with doc's first and last ones. It was cut before unless
-- they are doc's first ones, after unless they are its last ones; a
-- passage shorter than doc that is both (the same words over and over)
-- counts as cut after. PL/pgSQL: search_cut names it in every search, and
-- the planner would parse an SQL function's body each time to see whether
-- it could be written in.
CREATE FUNCTION search_cut_tokens(doc text, passage text, after boolean) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	s text[] := search_tokens(translate(passage, E'\x02\x03', ''));
	d text[] := search_tokens(doc);
	head boolean := s = d[:cardinality(s)];
BEGIN
	IF NOT after THEN
		RETURN NOT head;
	END IF;
	RETURN s <> d[cardinality(d) - cardinality(s) + 1:] OR (head AND cardinality(s) < cardinality(d));
END
$$;

-- Whether words of `doc` were left out of `passage`, the part of it that
-- ts_headline picked (marks \x02, \x03 and all): after it if `after`, else
-- before it. The passage is a run of doc's text with HTML-like tags made
-- spaces. Mostly it is found in `doc` as it is, and what stands before or
-- after it tells; else (a tag in it), search_cut_tokens. One expression,
-- so that the planner writes it into the statement that calls it.
CREATE FUNCTION search_cut(doc text, passage text, after boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN strpos(doc, translate(passage, E'\x02\x03', '')) = 0
		    THEN search_cut_tokens(doc, passage, after)
		    WHEN after
		    THEN substr(doc, strpos(doc, translate(passage, E'\x02\x03', ''))
				     + length(translate(passage, E'\x02\x03', ''))) ~ '[^[:space:][:punct:]]'
		    ELSE left(doc, strpos(doc, translate(passage, E'\x02\x03', '')) - 1) ~ '[^[:space:][:punct:]]' END
$$;
