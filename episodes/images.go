package episodes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG for image.DecodeConfig
	_ "image/png"  // registers PNG for image.DecodeConfig
)

// Artwork limits of podcast directories for show artwork.
const (
	minShowArtwork = 1400
	maxShowArtwork = 3000
	// MaxImageBytes bounds an image (artwork) the catalog stores.
	MaxImageBytes = 10 << 20
)

// describeImage checks that data is a JPEG or PNG image and describes it;
// Key is left empty.
func describeImage(data []byte) (*Image, error) {
	if len(data) > MaxImageBytes {
		return nil, invalid("artwork", "image.too_large", "the image is %d bytes, more than %d", len(data), MaxImageBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png") {
		return nil, invalid("artwork", "image.format", "the image is neither a JPEG nor a PNG")
	}
	sum := sha256.Sum256(data)
	return &Image{
		Type:   "image/" + format,
		Width:  cfg.Width,
		Height: cfg.Height,
		Size:   int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]),
	}, nil
}

// CheckImage refuses, with a *FieldError on artwork, bytes that are not a
// JPEG or PNG image of at most MaxImageBytes: the artwork an episode may
// carry.
func CheckImage(data []byte) error {
	_, err := describeImage(data)
	return err
}

// CheckShowArtwork refuses, with a *FieldError on artwork, bytes that
// SetShowArtwork would refuse: anything but a square JPEG or PNG of 1400
// to 3000 pixels, of at most MaxImageBytes.
func CheckShowArtwork(data []byte) error {
	img, err := describeImage(data)
	if err != nil {
		return err
	}
	return checkShowArtwork(img)
}

// checkShowArtwork applies the directories' rule for show artwork: a
// square JPEG or PNG of 1400 to 3000 pixels a side.
func checkShowArtwork(img *Image) error {
	if img.Width != img.Height {
		return invalid("artwork", "image.not_square", "the image is %d×%d pixels: podcast apps want a square", img.Width, img.Height)
	}
	if img.Width < minShowArtwork || img.Width > maxShowArtwork {
		return invalid("artwork", "image.width", "the image is %d pixels wide: podcast apps want %d to %d", img.Width, minShowArtwork, maxShowArtwork)
	}
	return nil
}

// storeImage stores image bytes under the show's images/ folder, named by
// their hash, and returns their description.
func (s *Service) storeImage(ctx context.Context, show string, img *Image, data []byte) error {
	ext := ".jpg"
	if img.Type == "image/png" {
		ext = ".png"
	}
	img.Key = showObjectsPrefix(show) + "images/" + img.SHA256[:12] + ext
	if _, err := s.blobs.Put(ctx, img.Key, bytes.NewReader(data), int64(len(data)), img.Type); err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	return nil
}

// SetShowArtwork stores data as the show's artwork, after checking it is a
// square JPEG or PNG of 1400 to 3000 pixels. The previous artwork is
// removed once the show is saved.
func (s *Service) SetShowArtwork(ctx context.Context, slug, revision string, data []byte) (*Show, error) {
	img, err := describeImage(data)
	if err != nil {
		return nil, err
	}
	if err := checkShowArtwork(img); err != nil {
		return nil, err
	}
	old, err := s.Show(slug)
	if err != nil {
		return nil, err
	}
	if err := s.storeImage(ctx, slug, img, data); err != nil {
		return nil, err
	}
	sh, err := s.UpdateShow(ctx, slug, revision, func(sh *Show) error {
		sh.Artwork = img
		return nil
	})
	if err != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), []string{img.Key})
		return nil, err
	}
	if old.Artwork != nil {
		s.deleteUnreferenced(ctx, []string{old.Artwork.Key}) // a failure leaves it to the sweep
	}
	return sh, nil
}

// SetEpisodeArtwork stores data (a JPEG or PNG) as the episode's artwork
// and applies edit, if not nil, in the same update, so that a form that
// changes fields and the artwork makes one revision. The previous artwork
// is removed once the episode is saved.
func (s *Service) SetEpisodeArtwork(ctx context.Context, show, id, revision string, data []byte, edit func(*Episode) error) (*Episode, error) {
	img, err := describeImage(data)
	if err != nil {
		return nil, err
	}
	old, err := s.Episode(show, id)
	if err != nil {
		return nil, err
	}
	if err := s.storeImage(ctx, show, img, data); err != nil {
		return nil, err
	}
	e, err := s.UpdateEpisode(ctx, show, id, revision, func(e *Episode) error {
		if edit != nil {
			if err := edit(e); err != nil {
				return err
			}
		}
		e.Artwork = img
		return nil
	})
	if err != nil {
		s.deleteUnreferenced(context.WithoutCancel(ctx), []string{img.Key})
		return nil, err
	}
	if old.Artwork != nil && old.Artwork.Key != img.Key {
		s.deleteUnreferenced(ctx, []string{old.Artwork.Key})
	}
	return e, nil
}
