"""The web pages: the county's stations, diaries, free slots and appointment histories, server-rendered."""
