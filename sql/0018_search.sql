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

-- tsquery's own AND (the && operator) as an aggregate: the query below is
-- put together from lexemes, never from typed text.
CREATE AGGREGATE search_and(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);

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
-- it or has its English stem. The words are the lexemes the 'simple'
-- configuration finds in the text, once each (so "x-ray" gives x-ray, x
-- and ray, and punctuation and operators nothing); a stop word such as
-- "the" has no stem, and a word that is its own stem needs none.
CREATE FUNCTION search_words(q text) RETURNS SETOF tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN stem IS NULL THEN search_term(w, ':*')
		    ELSE search_term(w, ':*') || search_term(stem, '') END
	FROM unnest(tsvector_to_array(to_tsvector('simple', q))) w,
	     LATERAL (SELECT nullif((ts_lexize('english_stem', w))[1], w) AS stem) s
$$;

-- What search text `q` finds: every word, each as a start or by its stem
-- ("prescriptions": prescriptions:* | prescript); NULL when the text has no
-- words (it then finds nothing).
--
-- Immutable, so the planner computes it from the text it is given (once
-- per search) and weighs the query by the column's statistics
-- (page_search.c plans each search for its words). PL/pgSQL, not SQL,
-- because the planner runs it for every search: a PL/pgSQL function keeps
-- its statements' plans for the connection's lifetime, where an SQL one
-- would be planned anew each time.
CREATE FUNCTION search_query(q text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	RETURN (SELECT search_and(t) FROM search_words(q) t);
END
$$;

-- What a snippet marks (page_search.c): the words of search text `q` and
-- their stems, lower case, separated by spaces; a word of a message that
-- starts with one of them is marked. That marks the forms a search finds
-- by their stem ("prescription" for "prescriptions") and, only in a
-- message found anyway, a few more ("testosterone" beside "tests"); a form
-- whose stem is not its start ("allergy" for "allergies") is found but
-- not marked. (The words hold no spaces: the 'simple' parser splits there.)
CREATE FUNCTION search_marks(q text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	RETURN (SELECT string_agg(DISTINCT x, ' ')
		FROM unnest(tsvector_to_array(to_tsvector('simple', q))) w,
		     LATERAL (VALUES (w), ((ts_lexize('english_stem', w))[1])) v (x)
		WHERE x IS NOT NULL);
END
$$;
