{#- An XSLT 1.0 stylesheet, not HTML: named .html so that it ships with the package, whose
    package data is templates/*.html. Rendered once per site by pages.render_stylesheet.
    Browsers run it on a feed that names it (<?xml-stylesheet?>); feed readers ignore it. -#}
<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
<xsl:output method="html" encoding="utf-8" indent="no"/>

<!-- One page for both formats: each value is the Atom node or the RSS one, whichever exists. -->
<xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
<xsl:variable name="description" select="/atom:feed/atom:subtitle | /rss/channel/description"/>
<xsl:variable name="self"
    select="/atom:feed/atom:link[@rel='self']/@href | /rss/channel/atom:link[@rel='self']/@href"/>
<xsl:variable name="entries" select="/atom:feed/atom:entry | /rss/channel/item"/>

<xsl:template match="/">
<html lang="{/atom:feed/@xml:lang | /rss/channel/language}">
<head>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="referrer" content="no-referrer"/>
<title><xsl:value-of select="$title"/> · {{ site.title }}</title>
<style>
body { max-width: 42rem; margin: 2rem auto; padding: 0 1rem; font: 17px/1.7 system-ui, sans-serif; color: #222; }
a { color: #0b57d0; }
h1 { margin-bottom: 0.2em; }
.meta { color: #666; font-size: 0.9em; }
.subscribe { background: #eef3fd; border: 1px solid #c6d5f5; border-radius: 8px; padding: 0.6rem 1.2rem; margin: 1.5rem 0; }
.subscribe h2 { font-size: 1.1em; margin: 0.4em 0; }
.subscribe p { margin: 0.5em 0; }
.url { display: block; padding: 0.3em 0.6em; background: #fff; border: 1px solid #c6d5f5; border-radius: 4px; font: 15px/1.6 ui-monospace, monospace; overflow-wrap: anywhere; user-select: all; }
ol.entries { list-style: none; padding: 0; }
ol.entries li { border-top: 1px solid #e4e4e4; padding: 0.8rem 0; }
ol.entries h3 { font-size: 1.05em; margin: 0; }
ol.entries p { margin: 0.3em 0 0; }
</style>
</head>
<body>
<p class="meta"><a href="{{ home }}">{{ site.title }}</a></p>
<h1><xsl:value-of select="$title"/></h1>
<xsl:if test="string($description) != string($title)">
<p><xsl:value-of select="$description"/></p>
</xsl:if>
<section class="subscribe">
<h2>This is a web feed</h2>
<p>A feed reader (an RSS reader) checks this page for you and shows each new article as
it is published. To subscribe, copy this address into your feed reader:</p>
<p><code class="url"><xsl:value-of select="$self"/></code></p>
<p>To subscribe to every feed of {{ site.title }} at once, import the
<a href="{{ opml }}">OPML list</a> into your reader. All the feeds, in every format, are
listed on the <a href="{{ home }}">front page</a>.</p>
</section>
<h2>Newest entries <span class="meta">(<xsl:value-of select="count($entries)"/>)</span></h2>
<ol class="entries">
<xsl:apply-templates select="$entries"/>
</ol>
</body>
</html>
</xsl:template>

<xsl:template match="atom:entry">
<li>
<h3><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h3>
<p class="meta">
<time datetime="{atom:published}">
<xsl:value-of select="concat(substring(atom:published, 1, 10), ' ', substring(atom:published, 12, 5), ' UTC')"/>
</time>
<xsl:if test="atom:author/atom:name"> · <xsl:value-of select="atom:author/atom:name"/></xsl:if>
</p>
<xsl:if test="atom:summary"><p><xsl:value-of select="atom:summary"/></p></xsl:if>
</li>
</xsl:template>

<xsl:template match="item">
<!-- pubDate as feeds writes it (RFC 822, UTC): "Tue, 15 Mar 2022 14:04:32 +0000" -->
<xsl:variable name="month"
    select="string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', substring(pubDate, 9, 3))) div 3 + 1"/>
<xsl:variable name="day"
    select="concat(substring(pubDate, 13, 4), '-', format-number($month, '00'), '-', substring(pubDate, 6, 2))"/>
<li>
<h3><a href="{link}"><xsl:value-of select="title"/></a></h3>
<p class="meta">
<time datetime="{$day}T{substring(pubDate, 18, 8)}Z">
<xsl:value-of select="concat($day, ' ', substring(pubDate, 18, 5), ' UTC')"/>
</time>
<xsl:if test="dc:creator"> · <xsl:value-of select="dc:creator"/></xsl:if>
</p>
<xsl:if test="string(description)"><p><xsl:value-of select="description"/></p></xsl:if>
</li>
</xsl:template>
</xsl:stylesheet>
