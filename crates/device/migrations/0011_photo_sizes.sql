-- 0011: the photo queue's counts without reading the photos. A photo's
-- size is stored after its bytes in the `photos` row, so reading `bytes`
-- walked every page of the picture (decrypting each): the home screen and
-- every sync read all the photos ever taken. This covering index holds the
-- size beside the key, and the queue's queries read only it.
-- Append-only: never edit once shipped.
CREATE INDEX photos_size ON photos (sha256, bytes);
