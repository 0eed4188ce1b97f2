"""Users as others see them: public profiles, follows, username checks, and the caller's profile settings."""
